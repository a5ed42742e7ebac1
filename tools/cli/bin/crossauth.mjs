#!/usr/bin/env node
// The crossauth command: runs the built CLI at once, and builds it first only
// when it is missing or older than its sources (Nx takes seconds to start).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isStale } from '../../scripts/freshness.mjs';

const root = join(import.meta.dirname, '..', '..', '..');
const outputs = ['tools/cli/dist/main.js', 'libs/auth/dist/index.js'];
const inputs = ['tools/cli/src', 'tools/cli/tsconfig.app.json', 'libs/auth/src', 'libs/auth/tsconfig.lib.json', 'tsconfig.base.json', 'package-lock.json'];

if (isStale(root, outputs, inputs)) {
  process.stderr.write('crossauth: building the CLI first (it is missing or its sources changed)…\n');
  // Build output goes to stderr: stdout carries only what the command prints (TOKEN=$(crossauth mint …)).
  const built = spawnSync('npx', ['nx', 'run', 'cli:build', '--output-style=static'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
  if (built.status !== 0) {
    process.stderr.write('crossauth: the CLI build failed; see the output above\n');
    process.exit(1);
  }
}
await import(pathToFileURL(join(root, 'tools/cli/dist/main.js')).href);
