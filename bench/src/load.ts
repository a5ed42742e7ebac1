import { join } from 'node:path';
import autocannon from 'autocannon';
import { MCP_HEADERS, ROOT, SECRET, machine, median, openSession, saveResult, signatureHeaders, startServer, token, type Server } from './harness';

interface RunResult {
  callsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  rssMiB: number;
}

const DIST = join(ROOT, 'bench', 'dist', 'servers');
const DURATION = Number(process.env['BENCH_SECONDS'] ?? 4);
const REPS = Number(process.env['BENCH_REPS'] ?? 2);

/** Drives `tools/call` at a server with unique JSON-RPC ids (and fresh signatures when asked). */
async function drive(server: Server, opts: { connections: number; stateful: boolean; bearer?: string; sign?: boolean; tool?: string; args?: Record<string, unknown> }): Promise<RunResult> {
  const headers: Record<string, string> = { ...MCP_HEADERS };
  if (opts.bearer) headers['authorization'] = `Bearer ${opts.bearer}`;
  if (opts.stateful) headers['mcp-session-id'] = await openSession(server.url, headers, opts.sign);
  let id = 1;
  const bodyFor = (n: number) => JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: opts.tool ?? 'echo', arguments: opts.args ?? { text: 'hello' } } });
  // Signed runs use requests signed before the clock starts (each with its own
  // nonce), so the load generator's signing does not compete with the server
  // for the same two cores.
  const presigned = opts.sign ? Array.from({ length: DURATION * 8000 }, (_, i) => ({ body: bodyFor(i + 1), headers: signatureHeaders(server.url, bodyFor(i + 1)) })) : [];
  const result = await autocannon({
    url: server.url,
    connections: opts.connections,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        headers,
        setupRequest: (req) => {
          const n = id++;
          const pre = presigned[n - 1];
          if (pre) return { ...req, body: pre.body, headers: { ...req.headers, ...pre.headers } };
          const body = bodyFor(n);
          return { ...req, body, headers: opts.sign ? { ...req.headers, ...signatureHeaders(server.url, body) } : req.headers };
        },
      },
    ],
  });
  return {
    callsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    rssMiB: Math.round(server.rssMiB()),
  };
}

function summarise(runs: RunResult[]): RunResult {
  return {
    callsPerSecond: Math.round(median(runs.map((r) => r.callsPerSecond))),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    rssMiB: Math.max(...runs.map((r) => r.rssMiB)),
  };
}

export async function load(): Promise<void> {
  const bearer = token('bench');
  const table: Array<Record<string, unknown>> = [];
  for (const stateful of [true, false]) {
    const mode = stateful ? [] : ['--stateless'];
    const servers = [
      { label: 'bare SDK, no auth (baseline)', server: await startServer('bare', join(DIST, 'bare-sdk.server.js'), mode), bearer: undefined, sign: false },
      { label: 'crossauth, bearer, verification cache on', server: await startServer('cached', join(DIST, 'crossauth.server.js'), mode), bearer, sign: false },
      { label: 'crossauth, bearer, verification cache off', server: await startServer('uncached', join(DIST, 'crossauth.server.js'), [...mode, '--no-cache']), bearer, sign: false },
      { label: 'crossauth, bearer + signed requests', server: await startServer('signed', join(DIST, 'crossauth.server.js'), [...mode, '--signed']), bearer, sign: true },
    ];
    for (const connections of [1, 16]) {
      const runs = new Map<string, RunResult[]>(servers.map((s) => [s.label, []]));
      // Alternate A/B/C/D each repetition so drift hits every configuration alike.
      for (let rep = 0; rep < REPS; rep++) {
        for (const s of servers) runs.get(s.label)?.push(await drive(s.server, { connections, stateful, bearer: s.bearer, sign: s.sign }));
      }
      const baseline = summarise(runs.get(servers[0]?.label as string) ?? []);
      for (const s of servers) {
        const r = summarise(runs.get(s.label) ?? []);
        table.push({ mode: stateful ? 'stateful' : 'stateless', connections, server: s.label, ...r, ratio: +(r.callsPerSecond / baseline.callsPerSecond).toFixed(3) });
        process.stdout.write(`${stateful ? 'stateful ' : 'stateless'} c=${connections} ${s.label}: ${r.callsPerSecond}/s p50 ${r.p50}ms p99 ${r.p99}ms ratio ${(r.callsPerSecond / baseline.callsPerSecond).toFixed(3)} (non2xx ${r.non2xx}, errors ${r.errors})\n`);
      }
    }
    await Promise.all(servers.map((s) => s.server.stop()));
  }

  // session-buddy's real status tool, directly and through the orchestrator.
  const dataDir = join(ROOT, 'tmp', `bench-sb-${Date.now()}`);
  const sb = await startServer('session-buddy', join(ROOT, 'dist/apps/session-buddy/main.js'), [], { SESSION_BUDDY_SECRET: SECRET, SESSION_BUDDY_DATA_DIR: dataDir, SESSION_BUDDY_AUTH_FAILURE_LIMIT: '0' }, 'SESSION_BUDDY_PORT');
  const orch = await startServer('orchestrator', join(ROOT, 'dist/apps/orchestrator/main.js'), [], { ORCHESTRATOR_AUTH_SECRET: SECRET, ORCHESTRATOR_SESSION_BUDDY_URL: sb.url }, 'ORCHESTRATOR_PORT');
  const sbToken = token('session-buddy', 'bench-user');
  const orchToken = token('orchestrator', 'bench-user');
  await openSessionAndStart(sb.url, sbToken);
  const paths: Array<Record<string, unknown>> = [];
  for (const connections of [1, 16]) {
    const direct: RunResult[] = [];
    const viaOrchestrator: RunResult[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      direct.push(await drive(sb, { connections, stateful: true, bearer: sbToken, tool: 'status', args: { project: 'bench' } }));
      viaOrchestrator.push(await drive(orch, { connections, stateful: true, bearer: orchToken, tool: 'project_status', args: { project: 'bench' } }));
    }
    const d = summarise(direct);
    const o = summarise(viaOrchestrator);
    paths.push({ connections, path: 'session-buddy status, direct', ...d });
    paths.push({ connections, path: 'orchestrator project_status → session-buddy status', ...o, extra_p50_ms: +(o.p50 - d.p50).toFixed(2) });
    process.stdout.write(`c=${connections} direct ${d.callsPerSecond}/s p50 ${d.p50}; via orchestrator ${o.callsPerSecond}/s p50 ${o.p50}\n`);
  }
  await orch.stop();
  await sb.stop();
  saveResult('load', { machine: machine(), seconds_per_run: DURATION, repetitions: REPS, log_level: 'warn', table, paths });
}

async function openSessionAndStart(url: string, bearer: string): Promise<void> {
  const headers = { authorization: `Bearer ${bearer}` };
  const session = await openSession(url, headers);
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': session },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'start', arguments: { project: 'bench' } } }),
  });
  await res.text();
}
