#!/usr/bin/env node
// `npm test`: every check CI runs, in order: lint (module boundaries included),
// type checks, unit and integration specs, then the cross-app e2e suite
// against built apps started as real processes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const steps = [
  ['nx', 'run-many', '-t', 'build', '--output-style=static'],
  ['nx', 'run-many', '-t', 'lint', 'typecheck', '--output-style=static'],
  ['nx', 'run-many', '-t', 'test', '--exclude=e2e', '--output-style=static', '--skip-nx-cache'],
  ['nx', 'run', 'e2e:e2e', '--output-style=static', '--skip-nx-cache'],
];
for (const args of steps) {
  process.stdout.write(`\n> npx ${args.join(' ')}\n`);
  const result = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
