// The official Python MCP client (`mcp`, pinned in tools/python/requirements.txt)
// in a venv under tmp/, for the e2e suite's 2025-era and 2026-07-28 Python
// clients. Reinstalled only when the requirements change.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Returns the venv's python, installing it first when needed; throws with the reason when it cannot. */
export function ensurePythonClient() {
  const venv = join(root, 'tmp', 'python-mcp');
  const python = join(venv, 'bin', 'python');
  const requirements = readFileSync(join(root, 'tools', 'python', 'requirements.txt'), 'utf8');
  const stamp = join(venv, 'crossauth-requirements.txt');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === requirements) return python;
  const quietly = (file, args) => {
    try {
      execFileSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      throw new Error(`${file} ${args.join(' ')} failed: ${String(error.stderr ?? error.message).trim().split('\n').slice(-3).join(' | ')}`);
    }
  };
  quietly('python3', ['-m', 'venv', '--clear', venv]);
  // One quick try per index: an unreachable index must not cost minutes of back-off.
  quietly(python, ['-m', 'pip', 'install', '--quiet', '--retries', '1', '--timeout', '20', '-r', join(root, 'tools', 'python', 'requirements.txt')]);
  writeFileSync(stamp, requirements);
  return python;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${ensurePythonClient()}\n`);
