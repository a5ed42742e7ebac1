module.exports = { displayName: 'orchestrator', ...require('../../jest.preset.cjs')(__dirname) };
