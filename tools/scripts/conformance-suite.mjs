// The MCP conformance suite (@modelcontextprotocol/conformance) and the Node 22
// it needs, installed from tools/conformance/package-lock.json into that
// directory only, so its node binary never shadows the workspace's Node 20.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'conformance');

/** Returns `{ node, cli }` for the e2e suite, installing them first when the lockfile changed. */
export function ensureConformanceSuite() {
  const node = join(dir, 'node_modules', '.bin', 'node');
  const cli = join(dir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
  const stamp = join(dir, 'node_modules', '.crossauth-lock');
  if (!(existsSync(node) && existsSync(cli) && existsSync(stamp) && readFileSync(stamp, 'utf8') === lock)) {
    try {
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      throw new Error(`npm ci in tools/conformance failed: ${String(error.stderr ?? error.message).trim().split('\n').slice(-3).join(' | ')}`);
    }
    writeFileSync(stamp, lock);
  }
  return { node, cli };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${JSON.stringify(ensureConformanceSuite())}\n`);
