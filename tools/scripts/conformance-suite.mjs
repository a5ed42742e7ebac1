// The MCP conformance suite (@modelcontextprotocol/conformance) and the Node 22
// it needs, installed from tools/conformance/package-lock.json into that
// directory only, so its node binary never shadows the workspace's Node 20.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installOnce } from './install-once.mjs';

const dir = join(import.meta.dirname, '..', 'conformance');

/** Returns `{ node, cli }` for the e2e suite, installing them first when the lockfile changed. */
export function ensureConformanceSuite() {
  const node = join(dir, 'node_modules', '.bin', 'node');
  const cli = join(dir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  installOnce({
    needed: [node, cli],
    stamp: join(dir, 'node_modules', '.crossauth-lock'),
    version: readFileSync(join(dir, 'package-lock.json'), 'utf8'),
    steps: [['npm', ['ci', '--no-audit', '--no-fund', '--prefix', dir]]],
  });
  return { node, cli };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${JSON.stringify(ensureConformanceSuite())}\n`);
