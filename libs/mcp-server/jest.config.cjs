module.exports = { displayName: 'mcp-server', ...require('../../jest.preset.cjs')(__dirname) };
