// npm run bench -- profile <out-dir> [server flags]    CPU profile of one bench server under load
// npm run bench -- profile-diff <dir-a> <dir-b>       µs per call, function by function, b minus a
//
// A whole-run profile mixes start-up, JIT warm-up and the steady state; these
// count only samples inside a window after the warm-up, divided by the calls
// answered in that window, so two servers can be compared function by function.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIST, MCP_HEADERS, ROOT, callRequests, openSession, pinSelf, startServer, token } from './harness';

const WARMUP_SECONDS = 6;
const WINDOW_SECONDS = 10;

interface Window {
  /** Profile clock (µs, monotonic like `process.hrtime`) at the window's edges. */
  readonly startUs: number;
  readonly endUs: number;
  readonly calls: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Flags as for the load bench: `--bare` for the bare SDK server, otherwise crossauth's (`--no-auth`, `--stateless`, `--sse`, `--signed`, …); both answer in JSON unless `--sse`. */
export async function profile(outDir: string, flags: string[]): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  pinSelf();
  const bare = flags.includes('--bare');
  const script = join(BENCH_DIST, 'servers', bare ? 'bare-sdk.server.js' : 'crossauth.server.js');
  const args = flags.filter((f) => f !== '--bare');
  // The bare server answers in SSE by default and in JSON with --json; ours the other way round.
  const serverArgs = bare ? (args.includes('--sse') ? args.filter((f) => f !== '--sse') : [...args, '--json']) : args;
  const server = await startServer('profiled', script, serverArgs, {}, 'PORT', ['--cpu-prof', `--cpu-prof-dir=${join(outDir, 'cpu')}`], true);
  const headers: Record<string, string> = { ...MCP_HEADERS, ...(args.includes('--no-auth') || bare ? {} : { authorization: `Bearer ${token('bench')}` }) };
  const signed = args.includes('--signed');
  if (!args.includes('--stateless')) headers['mcp-session-id'] = await openSession(server.url, headers, signed);
  // One request source for both runs, so ids (and presigned nonces) never repeat.
  const requests = callRequests(server.url, headers, { sign: signed, presign: (WARMUP_SECONDS + WINDOW_SECONDS) * 6000 });
  const run = (seconds: number) => autocannon({ url: server.url, connections: 16, duration: seconds, requests });
  await run(WARMUP_SECONDS);
  const startUs = nowUs();
  const result = await run(WINDOW_SECONDS);
  const window: Window = { startUs, endUs: nowUs(), calls: result.requests.total };
  await server.stop();
  writeFileSync(join(outDir, 'window.json'), JSON.stringify(window));
  process.stdout.write(`${outDir}: ${window.calls} calls in the window (${Math.round(window.calls / WINDOW_SECONDS)}/s), non-2xx ${result.non2xx}\n`);
}

/** Self time per function inside the window, in µs per call. */
function selfTimes(dir: string): Map<string, number> {
  const window = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as Window;
  const file = readdirSync(join(dir, 'cpu')).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}/cpu`);
  const p = JSON.parse(readFileSync(join(dir, 'cpu', file), 'utf8')) as CpuProfile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const name = (id: number) => {
    const f = nodes.get(id)?.callFrame;
    return f
      ? `${f.functionName || '(anonymous)'} ${f.url
          .replace(/^file:\/\//, '')
          .replace(/.*node_modules\//, '')
          .replace(`${ROOT}/`, '')}:${f.lineNumber}`
      : '?';
  };
  const counts = new Map<string, number>();
  let t = p.startTime;
  let sampled = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (t < window.startUs || t > window.endUs) return;
    sampled++;
    const key = name(id);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  // Sampled time is spread evenly over the samples in the window.
  const usPerSample = (window.endUs - window.startUs) / Math.max(1, sampled);
  return new Map([...counts].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)')).map(([k, v]) => [k, (v * usPerSample) / window.calls]));
}

export function profileDiff(a: string, b: string, top = 40): void {
  const [x, y] = [selfTimes(a), selfTimes(b)];
  const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  const rows = [...new Set([...x.keys(), ...y.keys()])].map((k) => ({ k, a: x.get(k) ?? 0, b: y.get(k) ?? 0 })).sort((r, s) => s.b - s.a - (r.b - r.a));
  const out = [`CPU µs per call (excluding idle): ${total(x).toFixed(1)} (${a}) → ${total(y).toFixed(1)} (${b})`, '  delta       a       b  function'];
  for (const r of rows.slice(0, top)) out.push(`${(r.b - r.a).toFixed(1).padStart(7)} ${r.a.toFixed(1).padStart(7)} ${r.b.toFixed(1).padStart(7)}  ${r.k}`);
  const onlyB = rows.filter((r) => r.a === 0).reduce((s, r) => s + r.b, 0);
  out.push(`functions only in b: ${onlyB.toFixed(1)} µs per call`);
  process.stdout.write(`${out.join('\n')}\n`);
}
