// npm run bench -- alloc                 bytes allocated per call, every load-bench server (docs/bench-results/alloc.json)
//
// Calls/s and CPU per call move ±5–15% with this VM's neighbours; what a call
// allocates hardly does. With the young generation fixed at one size, V8
// scavenges each time that room is used up, so scavenges per call × its size is
// roughly the bytes allocated per call; objects that survive a scavenge take
// room too, so it reads GC pressure more than bytes (alloc-profile gives the
// bytes). On an idle machine two runs of one build gave the same figure, and
// one property added per request (~1.3 KB) shows. A proxy for GC and work; CPU
// is still judged by the load bench.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIST, MCP_HEADERS, callRequests, machine, openSession, pinSelf, saveResult, startServer, token, type Server } from './harness';
import { CACHED_LABEL, SIGNED_LABEL } from './load';

const SEMI_SPACE_MIB = 16;
const WARMUP_CALLS = 20_000;

interface GcCounts {
  scavenges: number;
  markCompacts: number;
}

/** What the load bench runs, by label: script and flags. */
const SERVERS: Array<{ label: string; script: string; args: string[]; auth: boolean }> = [
  { label: 'bare SDK, no auth (JSON answers)', script: 'bare-sdk.server.js', args: ['--json'], auth: false },
  { label: 'bare SDK handler in a minimal NestJS app', script: 'nest-minimal.server.js', args: [], auth: false },
  { label: 'crossauth module, auth disabled', script: 'crossauth.server.js', args: ['--no-auth'], auth: false },
  { label: CACHED_LABEL, script: 'crossauth.server.js', args: [], auth: true },
  { label: SIGNED_LABEL, script: 'crossauth.server.js', args: ['--signed'], auth: true },
];

/** Signals the server's preload (SIGUSR2) and reads what it writes to `file`. */
async function signalAndRead<T>(server: Server, file: string): Promise<T> {
  rmSync(file, { force: true });
  server.process.kill('SIGUSR2');
  for (let i = 0; i < 1500 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * Opens a session on a started bench server and returns a function that makes
 * `amount` echo calls over 16 connections (signed ones presigned, enough for
 * the warm-up and `calls`) and returns how many were answered.
 */
async function sessionLoad(server: Server, spec: (typeof SERVERS)[number], calls: number): Promise<(amount: number) => Promise<number>> {
  const sign = spec.args.includes('--signed');
  const headers: Record<string, string> = { ...MCP_HEADERS, ...(spec.auth ? { authorization: `Bearer ${token('bench')}` } : {}) };
  headers['mcp-session-id'] = await openSession(server.url, headers, sign);
  const requests = callRequests(server.url, headers, { sign, presign: sign ? WARMUP_CALLS + calls : 0 });
  return async (amount) => {
    const result = await autocannon({ url: server.url, connections: 16, amount, requests });
    if (result.non2xx) throw new Error(`${spec.label}: ${result.non2xx} non-2xx answers`);
    return result.requests.total;
  };
}

export async function alloc(calls: number): Promise<void> {
  pinSelf();
  const rows: Array<Record<string, unknown>> = [];
  for (const spec of SERVERS) {
    const file = join(tmpdir(), `crossauth-bench-gc-${process.pid}.json`);
    const nodeArgs = [`--min-semi-space-size=${SEMI_SPACE_MIB}`, `--max-semi-space-size=${SEMI_SPACE_MIB}`, '-r', join(BENCH_DIST, 'gc-count.preload.js')];
    const server = await startServer(spec.label, join(BENCH_DIST, 'servers', spec.script), spec.args, { BENCH_GC_OUT: file }, 'PORT', nodeArgs, true);
    try {
      const run = await sessionLoad(server, spec, calls);
      await run(WARMUP_CALLS);
      const before = await signalAndRead<GcCounts>(server, file);
      const answered = await run(calls);
      const after = await signalAndRead<GcCounts>(server, file);
      const scavenges = after.scavenges - before.scavenges;
      rows.push({
        server: spec.label,
        calls: answered,
        scavenges_per_1000_calls: Math.round((scavenges / answered) * 1000 * 1000) / 1000,
        kib_per_call: Math.round(((scavenges * SEMI_SPACE_MIB * 1024) / answered) * 10) / 10,
        mark_compacts: after.markCompacts - before.markCompacts,
      });
      process.stdout.write(`${spec.label}: ${rows.at(-1)?.['kib_per_call']} KiB per call\n`);
    } finally {
      await server.stop();
      rmSync(file, { force: true });
    }
  }
  saveResult('alloc', { machine: machine(), semi_space_mib: SEMI_SPACE_MIB, connections: 16, mode: 'stateful', calls, rows });
}

// npm run bench -- alloc-profile <out.json> [--bare|--nest|--no-auth|--signed]   where the bytes come from
// npm run bench -- alloc-diff <a.json> <b.json>                                 bytes per call by function, b minus a

interface HeapNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: HeapNode[];
}
interface HeapProfile {
  head: HeapNode;
  samples: Array<{ nodeId: number; size: number }>;
  calls?: number;
}

/** A sampling heap profile of `calls` calls after the warm-up, with the call count saved beside it. */
export async function allocProfile(out: string, flags: string[], calls = 20_000): Promise<void> {
  pinSelf();
  // The same servers as the alloc table: bare, minimal Nest, or crossauth with its own flags.
  const spec = flags.includes('--bare')
    ? SERVERS[0]
    : flags.includes('--nest')
      ? SERVERS[1]
      : { label: 'crossauth', script: 'crossauth.server.js', args: flags, auth: !flags.includes('--no-auth') };
  if (!spec) throw new Error('no bench server');
  const sampling = `${out}.sampling`;
  const server = await startServer(
    'alloc-profile',
    join(BENCH_DIST, 'servers', spec.script),
    spec.args,
    { BENCH_HEAP_OUT: sampling },
    'PORT',
    ['-r', join(BENCH_DIST, 'heap-sample.preload.js')],
    true,
  );
  try {
    const run = await sessionLoad(server, spec, calls);
    await run(WARMUP_CALLS);
    server.process.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 300));
    const answered = await run(calls);
    const profile = await signalAndRead<HeapProfile & { error?: string }>(server, sampling);
    if (profile.error) throw new Error(profile.error);
    writeFileSync(out, JSON.stringify({ ...profile, calls: answered }));
    process.stdout.write(`${out}: ${answered} calls, ${Math.round(bytesByFunction(profile, answered).total)} bytes per call\n`);
  } finally {
    await server.stop();
    rmSync(sampling, { force: true });
  }
}

function bytesByFunction(profile: HeapProfile, calls: number): { total: number; byFunction: Map<string, number> } {
  const sizeByNode = new Map<number, number>();
  for (const s of profile.samples) sizeByNode.set(s.nodeId, (sizeByNode.get(s.nodeId) ?? 0) + s.size);
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode) => {
    const bytes = (sizeByNode.get(node.id) ?? 0) / calls;
    if (bytes > 0) {
      const url = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*\/libs\//, 'libs/');
      const key = `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + bytes);
      total += bytes;
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(profile.head);
  return { total, byFunction };
}

export function allocDiff(a: string, b: string, top = 40): void {
  const load = (file: string) => {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as HeapProfile;
    return bytesByFunction(profile, profile.calls ?? 1);
  };
  const before = load(a);
  const after = load(b);
  process.stdout.write(
    `bytes allocated per call: ${Math.round(before.total)} (${a}) → ${Math.round(after.total)} (${b})\n  delta       a       b  function (where the allocation happened)\n`,
  );
  const keys = new Set([...before.byFunction.keys(), ...after.byFunction.keys()]);
  const rows = [...keys]
    .map((k) => ({ k, x: before.byFunction.get(k) ?? 0, y: after.byFunction.get(k) ?? 0 }))
    .sort((p, q) => Math.abs(q.y - q.x) - Math.abs(p.y - p.x));
  for (const { k, x, y } of rows.slice(0, top))
    process.stdout.write(`${String(Math.round(y - x)).padStart(7)} ${String(Math.round(x)).padStart(7)} ${String(Math.round(y)).padStart(7)}  ${k}\n`);
}
