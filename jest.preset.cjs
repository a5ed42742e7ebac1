// Shared jest settings. Tests run on TypeScript sources through ts-jest in
// transpile-only mode; type errors are caught by each project's `typecheck`.
const path = require('node:path');

/** @param {string} projectDir */
module.exports = function preset(projectDir) {
  const root = __dirname;
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    moduleFileExtensions: ['ts', 'js', 'json'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(projectDir, 'tsconfig.spec.json') }],
    },
    moduleNameMapper: {
      '^@crossauth/auth$': path.join(root, 'libs/auth/src/index.ts'),
      '^@crossauth/auth/passport$': path.join(root, 'libs/auth/src/passport.ts'),
      '^@crossauth/auth/testing$': path.join(root, 'libs/auth/src/testing.ts'),
      '^@crossauth/storage/testing$': path.join(root, 'libs/storage/src/testing.ts'),
      '^@crossauth/mcp-server$': path.join(root, 'libs/mcp-server/src/index.ts'),
      '^@crossauth/storage$': path.join(root, 'libs/storage/src/index.ts'),
    },
    testMatch: ['<rootDir>/src/**/*.spec.ts'],
    clearMocks: true,
  };
};
