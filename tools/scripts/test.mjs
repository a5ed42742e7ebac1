#!/usr/bin/env node
// `npm test`: every check CI runs, in order: formatting (Prettier), build, lint (module boundaries
// included) and type checks, unit and integration specs, then the cross-app
// e2e suite against built apps started as real processes. Ends with one
// "tests: N passed, N failed" line summed over every jest run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startPostgres, startRedis } from './test-services.mjs';
import { ensurePythonClient } from './python-client.mjs';
import { ensureConformanceSuite } from './conformance-suite.mjs';

const root = join(import.meta.dirname, '..', '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

// PostgreSQL and Redis suites run against the URLs given, or against dedicated
// test instances started here when the servers are installed; otherwise they are
// skipped, and this says so before and after the run.
const engines = [
  ['CROSSAUTH_TEST_DATABASE_URL', 'PostgreSQL', startPostgres, 'the storage contract on PostgreSQL and the multi-instance e2e'],
  ['CROSSAUTH_TEST_REDIS_URL', 'Redis', startRedis, 'the Redis replay store and failure throttle specs and the multi-instance e2e'],
];
const skipped = [];
for (const [variable, name, start, suites] of engines) {
  if (!env[variable]) {
    try {
      const url = start();
      if (url) env[variable] = url;
    } catch (error) {
      process.stdout.write(`${name}: could not start a test instance (${error.message})\n`);
    }
  }
  if (env[variable]) process.stdout.write(`${name}: ${variable} is set; ${suites} run on it\n`);
  else skipped.push(`${name} is not installed and ${variable} is not set: skipped ${suites} (install postgresql and redis-server, as .ci/run does)`);
}
for (const line of skipped) process.stdout.write(`SKIPPED: ${line}\n`);
// The e2e suite checks both protocol eras with the official Python MCP client too.
if (!env.CROSSAUTH_TEST_PYTHON) {
  try {
    env.CROSSAUTH_TEST_PYTHON = ensurePythonClient();
    process.stdout.write(`Python MCP client: ${env.CROSSAUTH_TEST_PYTHON}\n`);
  } catch (error) {
    process.stdout.write(
      `Python MCP client: could not be installed (${error.message}); its e2e cases will fail (needs python3 with venv, as .ci/run installs)\n`,
    );
  }
}
// The MCP project's conformance suite, run by the e2e suite against both apps.
if (!env.CROSSAUTH_TEST_CONFORMANCE) {
  try {
    env.CROSSAUTH_TEST_CONFORMANCE = JSON.stringify(ensureConformanceSuite());
    process.stdout.write('MCP conformance suite: tools/conformance (Node 22)\n');
  } catch (error) {
    process.stdout.write(`MCP conformance suite: could not be installed (${error.message}); the conformance e2e will fail\n`);
  }
}
const steps = [
  // Formatting first: a line Prettier would change fails before anything is built.
  ['prettier', '--check', '.'],
  ['nx', 'run-many', '-t', 'build', '--output-style=static'],
  ['nx', 'run-many', '-t', 'lint', 'typecheck', '--output-style=static'],
  ['nx', 'run-many', '-t', 'test', '--exclude=e2e', '--output-style=static', '--skip-nx-cache'],
  ['nx', 'run', 'e2e:e2e', '--output-style=static', '--skip-nx-cache'],
];
const totals = { passed: 0, failed: 0, skipped: 0 };
// eslint-disable-next-line no-control-regex
const ansi = /\x1b\[[0-9;]*m/g;

function run(args) {
  return new Promise((resolve) => {
    const child = spawn('npx', args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const scan = (chunk, stream) => {
      stream.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^Tests:\s+(.*) total/.exec(line.replace(ansi, '').trim());
        if (!m) continue;
        for (const [, n, kind] of m[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) if (kind in totals) totals[kind] += Number(n);
      }
    };
    child.stdout.on('data', (c) => scan(c, process.stdout));
    child.stderr.on('data', (c) => scan(c, process.stderr));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

let status = 0;
for (const args of steps) {
  process.stdout.write(`\n> npx ${args.join(' ')}\n`);
  status = await run(args);
  if (status !== 0) break;
}
for (const line of skipped) process.stdout.write(`\nSKIPPED: ${line}`);
process.stdout.write(`\ntests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`);
process.exit(status !== 0 ? status : totals.failed > 0 ? 1 : 0);
