module.exports = { displayName: 'cli', ...require('../../jest.preset.cjs')(__dirname) };
