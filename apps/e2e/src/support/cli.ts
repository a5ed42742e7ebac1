import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './spawn-app';

/** Runs the built CLI as an operator does, with only PATH and `env`, from `cwd` (a temp directory by default). */
export function cli(args: string[], env: Record<string, string>, cwd = tmpdir()): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'tools/cli/dist/main.js'), ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, cwd });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}
