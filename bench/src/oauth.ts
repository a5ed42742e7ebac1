// npm run bench -- oauth: the orchestrator's token endpoint (client_credentials,
// client_secret_basic) against authenticated tool calls on the same server,
// as a paired ratio in one run (the target: grants at >= 0.5x tool calls).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  ISSUER,
  MCP_HEADERS,
  ROOT,
  SECRET,
  callRequests,
  cpuMicros,
  machine,
  median,
  openSession,
  pinSelf,
  saveResult,
  startServer,
  token,
  SHORT_RUNS,
  type Server,
} from './harness';
import { medianInterval } from './load';

const { reps: REPS, seconds: SECONDS, warmup: WARMUP } = SHORT_RUNS;

/** One autocannon run at 16 connections, with the server's CPU per call. */
export interface Run {
  readonly callsPerSecond: number;
  readonly cpuMicrosPerCall: number;
  readonly non2xx: number;
}

export async function run(server: Server, requests: autocannon.Request[], url: string, seconds: number): Promise<Run> {
  const before = cpuMicros(server);
  const result = await autocannon({ url, connections: 16, duration: seconds, requests });
  return {
    callsPerSecond: result.requests.average,
    cpuMicrosPerCall: (cpuMicros(server) - before) / Math.max(1, result.requests.total),
    non2xx: result.non2xx,
  };
}

/** Medians of repeated runs, and every non-2xx answer counted. */
export function summary(runs: readonly Run[]): Run {
  return {
    callsPerSecond: Math.round(median(runs.map((r) => r.callsPerSecond))),
    cpuMicrosPerCall: Math.round(median(runs.map((r) => r.cpuMicrosPerCall))),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
  };
}

export async function oauth(): Promise<void> {
  const pinned = pinSelf();
  const orchestrator = await startServer(
    'orchestrator',
    join(ROOT, 'dist/apps/orchestrator/main.js'),
    [],
    {
      ORCHESTRATOR_AUTH_SECRET: SECRET,
      // The port is random; the issuer the bench's tokens name is fixed.
      ORCHESTRATOR_ISSUER: ISSUER,
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-oauth-')),
      // Nothing listens there; the orchestrator only warns at start-up. Only its own endpoints are measured.
      ORCHESTRATOR_SESSION_BUDDY_URL: 'http://127.0.0.1:9/mcp',
    },
    'ORCHESTRATOR_PORT',
    [],
    true,
  );
  const base = orchestrator.url.replace(/\/mcp$/, '');
  // Register a client through the real CLI, as an operator would.
  const added = spawnSync(
    process.execPath,
    [join(ROOT, 'tools/cli/dist/main.js'), 'client', 'add', 'bench', '--scope', 'read', '--resource', 'http://127.0.0.1:8678/mcp', '--url', orchestrator.url],
    { env: { PATH: process.env['PATH'] ?? '', CROSSAUTH_SECRET: SECRET, CROSSAUTH_ISSUER: ISSUER }, encoding: 'utf8' },
  );
  const secret = /client_secret:\s+(\S+)/.exec(added.stdout)?.[1];
  if (!secret) throw new Error(`could not register the bench client: ${added.stderr}`);
  const grantBody = new URLSearchParams({ grant_type: 'client_credentials', resource: 'http://127.0.0.1:8678/mcp', scope: 'read' }).toString();
  const grant: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}` },
      body: grantBody,
    },
  ];
  // An authenticated tool that runs locally on the orchestrator (no hop to session-buddy).
  const bearer = token('orchestrator', 'bench-admin', ['admin']);
  const headers: Record<string, string> = { ...MCP_HEADERS, authorization: `Bearer ${bearer}` };
  headers['mcp-session-id'] = await openSession(orchestrator.url, headers);
  const tool = callRequests(orchestrator.url, headers, { tool: 'jwt_diagnostics', args: {} });
  await run(orchestrator, grant, base, WARMUP);
  await run(orchestrator, tool, orchestrator.url, WARMUP);
  const grants: Run[] = [];
  const calls: Run[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const order: Array<[Run[], autocannon.Request[], string]> = [
      [grants, grant, base],
      [calls, tool, orchestrator.url],
    ];
    if (rep % 2) order.reverse();
    for (const [into, requests, url] of order) into.push(await run(orchestrator, requests, url, SECONDS));
  }
  await orchestrator.stop();
  const ratios = grants.map((g, i) => g.callsPerSecond / (calls[i] as Run).callsPerSecond);
  const ratio = +median(ratios).toFixed(3);
  const ci = medianInterval(ratios);
  const result = {
    machine: machine(),
    pinned,
    repetitions: REPS,
    seconds_per_run: SECONDS,
    connections: 16,
    token_endpoint: summary(grants),
    authenticated_tool_call: { tool: 'jwt_diagnostics', ...summary(calls) },
    ratio,
    ratio_ci90: ci,
    target: 0.5,
    target_met: ci[0] >= 0.5 ? 'met (clear)' : ratio >= 0.5 ? 'met (within noise)' : 'missed',
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  saveResult('oauth', result);
}

type Json = Record<string, unknown>;

/** The token endpoint's section of docs/benchmarks.md. */
export function oauthSection(result: Json | undefined): string[] {
  if (!result) return [];
  const t = result['token_endpoint'] as Json;
  const c = result['authenticated_tool_call'] as Json;
  const ci = result['ratio_ci90'] as [number, number];
  return [
    '## Token endpoint (client credentials)',
    '',
    `\`npm run bench -- oauth\`: the orchestrator alone, ${result['repetitions']} alternating repetitions of ${result['seconds_per_run']} s at 16 connections after a warm-up; a grant is \`POST /oauth/token\` with \`client_secret_basic\` (HMAC check of the secret, a minted token), a tool call is \`jwt_diagnostics\` in a session with a bearer token. Machine: ${JSON.stringify(result['machine'])}.`,
    '',
    '| request | calls/s | CPU µs/call | non-2xx |',
    '| --- | ---: | ---: | ---: |',
    `| token endpoint grant | ${t['callsPerSecond']} | ${t['cpuMicrosPerCall']} | ${t['non2xx']} |`,
    `| authenticated tool call | ${c['callsPerSecond']} | ${c['cpuMicrosPerCall']} | ${c['non2xx']} |`,
    '',
    `Grants ÷ tool calls: ${result['ratio']} [${ci[0]}–${ci[1]}]; target ≥ 0.5×: ${result['target_met']}.`,
    '',
  ];
}
