module.exports = { displayName: 'bench', ...require('../jest.preset.cjs')(__dirname) };
