// The official Python MCP client (`mcp`) and FastMCP, pinned in
// tools/python/requirements.txt, in a venv under tmp/: the e2e suite's Python
// clients of both eras, and a third-party FastMCP resource server trusting
// crossauth's tokens. Reinstalled only when the requirements change.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installOnce } from './install-once.mjs';

const root = join(import.meta.dirname, '..', '..');

/** Returns the venv's python, installing it first when needed; throws with the reason when it cannot. */
export function ensurePythonClient() {
  const venv = join(root, 'tmp', 'python-mcp');
  const python = join(venv, 'bin', 'python');
  const file = join(root, 'tools', 'python', 'requirements.txt');
  installOnce({
    needed: [python],
    stamp: join(venv, 'crossauth-requirements.txt'),
    version: readFileSync(file, 'utf8'),
    steps: [
      ['python3', ['-m', 'venv', '--clear', venv]],
      // One quick try per index: an unreachable index must not cost minutes of back-off.
      [python, ['-m', 'pip', 'install', '--quiet', '--retries', '1', '--timeout', '20', '-r', file]],
    ],
  });
  return python;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${ensurePythonClient()}\n`);
