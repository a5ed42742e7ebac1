import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  BENCH_DIST,
  ISSUER,
  MCP_HEADERS,
  ROOT,
  SECRET,
  callBody,
  callRequests,
  cpuMicros,
  machine,
  median,
  openSession,
  pinSelf,
  saveResult,
  startServer,
  token,
  type Server,
} from './harness';

export interface RunResult {
  callsPerSecond: number;
  p50: number;
  p99: number;
  /** Server CPU time (user + system, all threads) per completed call. */
  cpuMicrosPerCall: number;
  errors: number;
  non2xx: number;
  rssMiB: number;
}

const DIST = join(BENCH_DIST, 'servers');
// Short runs, many of them: on this VM a server's CPU cost per call swings by up
// to 2x from one half-second to the next (neighbours, not our code), so more
// pairs buy more than longer runs. JIT needs ~6 s under load to reach steady
// state from cold, hence the warm-up. A server that has sat idle while the
// others ran (~30 s here) needs more CPU per call for its first seconds (V8's
// memory reducer shrinks an idle heap; with --no-memory-reducer the swing
// went away), so each measured cell follows an unmeasured re-warm: the
// targets are about sustained load, not recovery from idleness. One second
// was not enough, and not alike for every server: with six servers in turn
// and 2 s cells, unsigned crossauth read 164 µs per call after 1 s of re-warm
// and 145 after 4 s, the signed server 164 and 182 (signed ÷ unsigned 0.99
// against 0.81; with two servers and little idling, 0.82-0.87).
const DURATION = Number(process.env['BENCH_SECONDS'] ?? 2);
const REPS = Number(process.env['BENCH_REPS'] ?? 10);
const WARMUP = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 12);
const REWARM = Number(process.env['BENCH_REWARM_SECONDS'] ?? 4);

export interface DriveOptions {
  connections: number;
  stateful: boolean;
  seconds?: number;
  bearer?: string;
  sign?: boolean;
  tool?: string;
  args?: Record<string, unknown>;
}

/** A cell's session and requests, made before its clock starts. */
export interface Prepared {
  readonly requests: autocannon.Request[];
}

/** Opens the session and builds (and, when asked, signs) the requests for one cell. */
export async function prepare(server: Server, opts: DriveOptions): Promise<Prepared> {
  const seconds = opts.seconds ?? DURATION;
  const headers: Record<string, string> = { ...MCP_HEADERS };
  if (opts.bearer) headers['authorization'] = `Bearer ${opts.bearer}`;
  if (opts.stateful) headers['mcp-session-id'] = await openSession(server.url, headers, opts.sign);
  return { requests: callRequests(server.url, headers, { sign: opts.sign, presign: seconds * 8000, tool: opts.tool, args: opts.args }) };
}

/** Drives `tools/call` at a server with autocannon (unique JSON-RPC ids, fresh signatures when asked). */
export async function drive(server: Server, opts: DriveOptions, prepared?: Prepared): Promise<RunResult> {
  const seconds = opts.seconds ?? DURATION;
  const { requests } = prepared ?? (await prepare(server, opts));
  const cpuBefore = cpuMicros(server);
  const result = await autocannon({ url: server.url, connections: opts.connections, duration: seconds, requests });
  return {
    callsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMicrosPerCall: (cpuMicros(server) - cpuBefore) / Math.max(1, result.requests.total),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    rssMiB: Math.round(server.rssMiB()),
  };
}

export function summarise(runs: RunResult[]): RunResult {
  return {
    callsPerSecond: Math.round(median(runs.map((r) => r.callsPerSecond))),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuMicrosPerCall: Math.round(median(runs.map((r) => r.cpuMicrosPerCall))),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    rssMiB: Math.max(...runs.map((r) => r.rssMiB)),
  };
}

/** Per repetition: this run / the baseline's run in the same repetition (drift cancels pairwise). */
export function pairs(runs: RunResult[], baseline: RunResult[], pick: (r: RunResult) => number): number[] {
  return runs.map((r, i) => pick(r) / pick(baseline[i] as RunResult));
}

/** Median of the paired ratios. */
export function pairedRatio(runs: RunResult[], baseline: RunResult[], pick: (r: RunResult) => number): number {
  return +median(pairs(runs, baseline, pick)).toFixed(3);
}

/**
 * A 90% bootstrap interval for the median paired ratio (fixed seed, so a
 * report regenerates identically): how far the median could move on this
 * machine's noise. A target is met only if the whole interval clears it.
 */
export function medianInterval(values: number[], resamples = 4000): [number, number] {
  let seed = 0x2545f491;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const medians: number[] = [];
  for (let i = 0; i < resamples; i++) medians.push(median(values.map(() => values[Math.floor(random() * values.length)] as number)));
  medians.sort((a, b) => a - b);
  return [+(medians[Math.floor(resamples * 0.05)] as number).toFixed(3), +(medians[Math.floor(resamples * 0.95)] as number).toFixed(3)];
}

const SSE_BASELINE = 'bare SDK, no auth, SSE answers (SSE baseline)';
export const A_A_LABEL = 'bare SDK again (A/A: the noise floor)';
export const CACHED_LABEL = 'crossauth, bearer, verification cache on';
export const SIGNED_LABEL = 'crossauth, bearer + signed requests';
export const NO_AUTH_LABEL = 'crossauth module, auth disabled (framework cost)';
export const NEST_LABEL = 'bare SDK handler in a minimal NestJS app (NestJS alone)';
export const BORN_LABEL = "bare SDK, requests born as Express's (crossauth's server fix alone)";

interface Contender {
  label: string;
  server: Server;
  bearer?: string;
  sign: boolean;
  /** The baseline this row is compared with; default the first contender. */
  against?: string;
}

export async function load(): Promise<void> {
  const pinned = pinSelf();
  const bearer = token('bench');
  const table: Array<Record<string, unknown>> = [];
  for (const stateful of [true, false]) {
    const mode = stateful ? [] : ['--stateless'];
    const start = (name: string, script: string, flags: string[]) => startServer(name, join(DIST, script), [...mode, ...flags], {}, 'PORT', [], true);
    // Both sides answer in the same format: JSON (crossauth's default), then SSE (the SDK's default).
    const contenders: Contender[] = [
      { label: 'bare SDK, no auth (baseline)', server: await start('bare', 'bare-sdk.server.js', ['--json']), sign: false },
      // The same server again: its ratio to the baseline is this machine's noise floor.
      { label: A_A_LABEL, server: await start('bare-again', 'bare-sdk.server.js', ['--json']), sign: false },
      { label: CACHED_LABEL, server: await start('cached', 'crossauth.server.js', []), bearer, sign: false },
      { label: 'crossauth, bearer, verification cache off', server: await start('uncached', 'crossauth.server.js', ['--no-cache']), bearer, sign: false },
      { label: SIGNED_LABEL, server: await start('signed', 'crossauth.server.js', ['--signed']), bearer, sign: true },
      { label: NO_AUTH_LABEL, server: await start('noauth', 'crossauth.server.js', ['--no-auth']), sign: false },
      // The same handler as the baseline inside the smallest Nest app: the floor under every crossauth row.
      { label: NEST_LABEL, server: await start('nest', 'nest-minimal.server.js', []), sign: false },
      // The baseline with the one server-level fix crossauth's apps get (createExpressServer): what it is worth alone.
      { label: BORN_LABEL, server: await start('bare-born', 'bare-sdk.server.js', ['--json', '--born-express']), sign: false },
      { label: SSE_BASELINE, server: await start('bare-sse', 'bare-sdk.server.js', []), sign: false, against: SSE_BASELINE },
      {
        label: 'crossauth, bearer, cache on, SSE answers',
        server: await start('cached-sse', 'crossauth.server.js', ['--sse']),
        bearer,
        sign: false,
        against: SSE_BASELINE,
      },
    ];
    // Warm every server up (JIT, caches, heap) before anything is counted.
    for (const c of contenders) await drive(c.server, { connections: 16, stateful, bearer: c.bearer, sign: c.sign, seconds: WARMUP });
    for (const connections of [1, 16]) {
      const runs = new Map<string, RunResult[]>(contenders.map((c) => [c.label, []]));
      // Alternate all contenders each repetition so drift hits every configuration
      // alike, starting one place later each time so no one always follows the same server.
      for (let rep = 0; rep < REPS; rep++) {
        for (let i = 0; i < contenders.length; i++) {
          const c = contenders[(rep + i) % contenders.length] as Contender;
          const options: DriveOptions = { connections, stateful, bearer: c.bearer, sign: c.sign };
          // Prepared once, before the re-warm, which then uses the same session and
          // request source (ids and presigned nonces continue). Signing thousands of
          // requests takes the load generator ~0.2 s, an idle gap only the signed rows
          // had right before their clock started (a server fresh from idle needs more
          // CPU per call, above; worth ~2-4% of the signed ratio in a scratch A/B).
          const prepared = await prepare(c.server, { ...options, seconds: REWARM + DURATION });
          if (REWARM > 0) await drive(c.server, { ...options, seconds: REWARM }, prepared);
          runs.get(c.label)?.push(await drive(c.server, options, prepared));
        }
      }
      const unsigned = runs.get(CACHED_LABEL) ?? [];
      const frameworkOnly = runs.get(NO_AUTH_LABEL) ?? [];
      for (const c of contenders) {
        const mine = runs.get(c.label) ?? [];
        const base = runs.get(c.against ?? (contenders[0]?.label as string)) ?? [];
        const r = summarise(mine);
        const row = {
          mode: stateful ? 'stateful' : 'stateless',
          connections,
          server: c.label,
          ...r,
          ratio: pairedRatio(mine, base, (x) => x.callsPerSecond),
          ratio_ci90: medianInterval(pairs(mine, base, (x) => x.callsPerSecond)),
          cpu_ratio: pairedRatio(base, mine, (x) => x.cpuMicrosPerCall),
          cpu_ratio_ci90: medianInterval(pairs(base, mine, (x) => x.cpuMicrosPerCall)),
          // What auth itself costs, apart from our MCP module: the same server with auth disabled.
          ...(c.label === CACHED_LABEL
            ? {
                over_no_auth: pairedRatio(mine, frameworkOnly, (x) => x.callsPerSecond),
                over_no_auth_ci90: medianInterval(pairs(mine, frameworkOnly, (x) => x.callsPerSecond)),
              }
            : {}),
          ...(c.sign
            ? {
                signed_over_unsigned: pairedRatio(mine, unsigned, (x) => x.callsPerSecond),
                signed_over_unsigned_ci90: medianInterval(pairs(mine, unsigned, (x) => x.callsPerSecond)),
              }
            : {}),
        };
        table.push(row);
        process.stdout.write(
          `${row.mode} c=${connections} ${c.label}: ${r.callsPerSecond}/s, ${r.cpuMicrosPerCall} µs CPU/call, p50 ${r.p50}ms p99 ${r.p99}ms, ratio ${row.ratio} (cpu ${row.cpu_ratio}) non2xx ${r.non2xx} errors ${r.errors}\n`,
        );
      }
    }
    await Promise.all(contenders.map((c) => c.server.stop()));
  }
  const paths = await orchestratorHop();
  saveResult('load', {
    machine: machine(),
    pinned,
    seconds_per_run: DURATION,
    repetitions: REPS,
    warmup_seconds: WARMUP,
    rewarm_seconds: REWARM,
    log_level: 'warn',
    table,
    paths,
  });
}

/**
 * Sequential-call latency with microsecond resolution (autocannon reports
 * whole milliseconds, too coarse for a sub-millisecond hop): `connections`
 * closed-loop workers on keep-alive sockets for `seconds`, each request from
 * `next(id)`. A call counts only when it answers 200 with a result that is
 * not a tool error.
 */
export async function closedLoop(
  server: Server,
  connections: number,
  seconds: number,
  next: (id: number) => { body: string; headers: Record<string, string> },
): Promise<{ callsPerSecond: number; p50: number; p99: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(server.url);
  const samples: number[] = [];
  let errors = 0;
  let id = 1;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const { body, headers } = next(id++);
      const started = performance.now();
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            if (res.statusCode !== 200 || text.includes('"isError":true') || !text.includes('"result"')) errors++;
            else samples.push(performance.now() - started);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  agent.destroy();
  samples.sort((a, b) => a - b);
  const at = (q: number) => +(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN).toFixed(3);
  return { callsPerSecond: Math.round(samples.length / seconds), p50: at(0.5), p99: at(0.99), errors };
}

/** {@link closedLoop} on a 2025-era session opened first. */
async function latencyRun(
  server: Server,
  bearer: string,
  tool: string,
  args: Record<string, unknown>,
  connections: number,
  seconds: number,
): Promise<{ callsPerSecond: number; p50: number; p99: number; errors: number }> {
  const headers: Record<string, string> = { ...MCP_HEADERS, authorization: `Bearer ${bearer}` };
  headers['mcp-session-id'] = await openSession(server.url, headers);
  return closedLoop(server, connections, seconds, (id) => ({ body: callBody(id, tool, args), headers }));
}

/**
 * session-buddy's real status tool, directly and through the orchestrator
 * (servers on every core: three processes share two). `npm run bench -- hop`
 * runs only this and saves nothing.
 */
export async function orchestratorHop(): Promise<Array<Record<string, unknown>>> {
  const dataDir = join(ROOT, 'tmp', `bench-sb-${Date.now()}`);
  const sb = await startServer(
    'session-buddy',
    join(ROOT, 'dist/apps/session-buddy/main.js'),
    [],
    { SESSION_BUDDY_SECRET: SECRET, SESSION_BUDDY_DATA_DIR: dataDir, SESSION_BUDDY_AUTH_FAILURE_LIMIT: '0' },
    'SESSION_BUDDY_PORT',
  );
  const orch = await startServer(
    'orchestrator',
    join(ROOT, 'dist/apps/orchestrator/main.js'),
    [],
    { ORCHESTRATOR_AUTH_SECRET: SECRET, ORCHESTRATOR_ISSUER: ISSUER, ORCHESTRATOR_SESSION_BUDDY_URL: sb.url },
    'ORCHESTRATOR_PORT',
  );
  const sbToken = token('session-buddy', 'bench-user');
  const orchToken = token('orchestrator', 'bench-user');
  await openSessionAndStart(sb.url, sbToken);
  const direct = { server: sb, bearer: sbToken, tool: 'status' };
  const via = { server: orch, bearer: orchToken, tool: 'project_status' };
  for (const p of [direct, via]) await latencyRun(p.server, p.bearer, p.tool, { project: 'bench' }, 16, WARMUP);
  const paths: Array<Record<string, unknown>> = [];
  for (const connections of [1, 16]) {
    const d: Array<Awaited<ReturnType<typeof latencyRun>>> = [];
    const o: typeof d = [];
    const orchCpu: number[] = [];
    const sbCpu: number[] = [];
    const sbDirectCpu: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      let sb0 = cpuMicros(sb);
      d.push(await latencyRun(sb, sbToken, 'status', { project: 'bench' }, connections, DURATION));
      sbDirectCpu.push((cpuMicros(sb) - sb0) / Math.max(1, (d.at(-1)?.callsPerSecond ?? 0) * DURATION));
      sb0 = cpuMicros(sb);
      const o0 = cpuMicros(orch);
      o.push(await latencyRun(orch, orchToken, 'project_status', { project: 'bench' }, connections, DURATION));
      const calls = Math.max(1, (o.at(-1)?.callsPerSecond ?? 0) * DURATION);
      orchCpu.push((cpuMicros(orch) - o0) / calls);
      sbCpu.push((cpuMicros(sb) - sb0) / calls);
    }
    const sum = (runs: typeof d) => ({
      callsPerSecond: Math.round(median(runs.map((r) => r.callsPerSecond))),
      p50: +median(runs.map((r) => r.p50)).toFixed(3),
      p99: +median(runs.map((r) => r.p99)).toFixed(3),
      errors: runs.reduce((a, r) => a + r.errors, 0),
    });
    const ds = sum(d);
    const os = sum(o);
    const extra = +(os.p50 - ds.p50).toFixed(3);
    paths.push({ connections, path: 'session-buddy status, direct', ...ds, cpu_us_per_call: { 'session-buddy': Math.round(median(sbDirectCpu)) } });
    paths.push({
      connections,
      path: 'orchestrator project_status → session-buddy status',
      ...os,
      extra_p50_ms: extra,
      target_met: extra <= ds.p50 + 1,
      cpu_us_per_call: { orchestrator: Math.round(median(orchCpu)), 'session-buddy': Math.round(median(sbCpu)) },
    });
    process.stdout.write(
      `c=${connections} direct ${ds.callsPerSecond}/s p50 ${ds.p50}ms; via orchestrator ${os.callsPerSecond}/s p50 ${os.p50}ms (extra ${extra}ms, orchestrator ${Math.round(median(orchCpu))} µs CPU/call)\n`,
    );
  }
  await orch.stop();
  await sb.stop();
  return paths;
}

async function openSessionAndStart(url: string, bearer: string): Promise<void> {
  const headers = { authorization: `Bearer ${bearer}` };
  const session = await openSession(url, headers);
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': session },
    body: callBody(1, 'start', { project: 'bench' }),
  });
  await res.text();
}
