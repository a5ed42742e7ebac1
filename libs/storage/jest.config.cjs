module.exports = { displayName: 'storage', ...require('../../jest.preset.cjs')(__dirname) };
