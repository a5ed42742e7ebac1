import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/tmp', '**/coverage', 'bench/results'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      // Module boundaries are the architecture: apps depend only on libs, never
      // on each other; libs never on apps; e2e on no app source at all.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:session-buddy', onlyDependOnLibsWithTags: ['scope:shared', 'scope:session-buddy'] },
            { sourceTag: 'scope:orchestrator', onlyDependOnLibsWithTags: ['scope:shared', 'scope:orchestrator'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Storage engines live in libs/storage; auth and the MCP layer keep only the ports.
    files: ['libs/auth/src/**/*.ts', 'libs/mcp-server/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['ioredis', 'pg', 'better-sqlite3', 'rate-limiter-flexible'].map((name) => ({
            name,
            message: 'storage engines belong in libs/storage; depend on a port here',
          })),
          patterns: [{ group: ['@crossauth/storage'], message: 'libs/storage builds on libs/auth and libs/mcp-server, not the other way round' }],
        },
      ],
    },
  },
  {
    // Services log through Nest's Logger; only the CLI and scripts print.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'apps/*/src/main.ts'],
    rules: { 'no-console': 'error' },
  },
];
