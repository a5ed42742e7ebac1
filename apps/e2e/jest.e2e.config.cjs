// Cross-app tests: black box, real processes. Serial, because each spec starts servers.
module.exports = {
  displayName: 'e2e',
  ...require('../../jest.preset.cjs')(__dirname),
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testTimeout: 60_000,
  maxWorkers: 1,
};
