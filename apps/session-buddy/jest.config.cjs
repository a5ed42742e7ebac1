module.exports = { displayName: 'session-buddy', ...require('../../jest.preset.cjs')(__dirname) };
