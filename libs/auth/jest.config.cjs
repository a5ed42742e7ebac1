module.exports = { displayName: 'auth', ...require('../../jest.preset.cjs')(__dirname) };
