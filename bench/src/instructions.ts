// npm run bench -- instructions [--warmup N] [--calls N]
//
// Instructions per tools/call under valgrind's callgrind, every thread of the
// server counted, by kind of code. Calls/s on this VM strays ±15–22% between
// two copies of one server; two runs of the bare SDK agreed within 0.2%. Not
// every server is that steady: JIT compilation or a major GC that falls inside
// the counted window moves a row (the signed server read 658,000 to 836,000
// instructions per call in three runs), so repeat a row before trusting a
// change it shows. They are not time:
// cache misses, and code valgrind runs differently (its CPU has no SHA
// extensions, so OpenSSL's SHA-256 takes its AVX2 path) do not show. Needs
// valgrind (Debian: `apt-get install valgrind`); each server takes ~4 minutes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIST, MCP_HEADERS, SECRET, callRequests, freePort, machine, openSession, saveResult, token, waitUntilAnswering } from './harness';
import { CACHED_LABEL, SIGNED_LABEL } from './load';

const SERVERS: Array<{ label: string; script: string; args: string[]; bearer: boolean; sign: boolean }> = [
  { label: 'bare SDK, no auth (baseline)', script: 'bare-sdk.server.js', args: ['--json'], bearer: false, sign: false },
  { label: "bare SDK, requests born as Express's", script: 'bare-sdk.server.js', args: ['--json', '--born-express'], bearer: false, sign: false },
  { label: 'crossauth module, auth disabled', script: 'crossauth.server.js', args: ['--no-auth'], bearer: false, sign: false },
  { label: CACHED_LABEL, script: 'crossauth.server.js', args: [], bearer: true, sign: false },
  { label: SIGNED_LABEL, script: 'crossauth.server.js', args: ['--signed'], bearer: true, sign: true },
];

/** Kinds of code, by callgrind function name; the first match wins. */
const KINDS: Array<[string, RegExp]> = [
  ['JIT-compiled JavaScript', /^0x[0-9a-f]+ \[\?\?\?\]$/],
  ['V8 builtins', /Builtins_/],
  [
    'V8 runtime property lookup (IC misses)',
    /LookupIterator|IC::|Migrate|DescriptorArray|Map::|TransitionsAccessor|FieldIndex|LoadHandler|StoreHandler|FeedbackNexus|JSObject::|Runtime_/,
  ],
  ['garbage collection', /Heap|Scaveng|Marking|Sweep|Evacuat|Compactor|GC|Remembered|SlotSet|heap::base|cppgc|FreeList/],
  ['JIT compilers', /compiler::|maglev::|baseline::|Compiler::|interpreter::/],
  ['SHA-256 and OpenSSL', /sha256|EVP_|OPENSSL|CRYPTO_|ossl_/],
  ['HTTP parser (llhttp)', /llhttp/],
];
const OTHER = 'other native (V8, Node, libc)';
// Entries that are callers' totals, not code of their own.
const NOT_SELF = /\(below main\)|__libc_start_main|\bmain \[|node::Start\(|node::NodeMainInstance|node::SpinEventLoop|clone\.S|start_thread|0x000000000001ab70/;

/** Per-call instructions by kind, from a callgrind dump. */
function byKind(file: string, calls: number): { total: number; kinds: Record<string, number> } {
  const annotated = spawnSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout;
  const kinds: Record<string, number> = {};
  let total = 0;
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const count = Number((m[1] as string).replaceAll(',', ''));
    const name = (m[2] as string).replace(/^\S*?:(?=\S)/, '');
    if (m[2] === 'PROGRAM TOTALS') total = count;
    else if (!NOT_SELF.test(m[2] as string)) {
      const kind = KINDS.find(([, pattern]) => pattern.test(name))?.[0] ?? OTHER;
      kinds[kind] = (kinds[kind] ?? 0) + count;
    }
  }
  const perCall = (n: number) => Math.round(n / calls);
  return { total: perCall(total), kinds: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, perCall(v)])) };
}

async function countOne(spec: (typeof SERVERS)[number], warmup: number, calls: number) {
  const port = await freePort();
  const out = join(tmpdir(), `crossauth-callgrind-${process.pid}-${port}`);
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${out}`, '--dump-instr=no', process.execPath, join(BENCH_DIST, 'servers', spec.script), ...spec.args],
    {
      env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', BENCH_SECRET: SECRET, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  try {
    const url = `http://127.0.0.1:${port}/mcp`;
    // Under valgrind a Nest app takes a minute or two to start.
    await waitUntilAnswering(spec.label, child, url, 300_000);
    const headers: Record<string, string> = { ...MCP_HEADERS, ...(spec.bearer ? { authorization: `Bearer ${token('bench')}` } : {}) };
    headers['mcp-session-id'] = await openSession(url, headers, spec.sign);
    const drive = async (amount: number) => {
      const r = await autocannon({
        url,
        connections: 16,
        amount,
        timeout: 120,
        requests: callRequests(url, headers, { sign: spec.sign, presign: amount + 16 }),
      });
      if (r.non2xx || r.errors) throw new Error(`${spec.label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    };
    await drive(warmup);
    // Zero the counters after the warm-up (JIT tiers, caches, heap), count the calls, dump.
    spawnSync('callgrind_control', ['--zero', String(child.pid)]);
    await drive(calls);
    spawnSync('callgrind_control', ['--dump', String(child.pid)]);
    const dump = `${out}.1`;
    if (!existsSync(dump)) throw new Error(`no callgrind dump for ${spec.label}`);
    return { server: spec.label, ...byKind(dump, calls) };
  } finally {
    child.kill('SIGKILL');
    for (const f of [out, `${out}.1`]) rmSync(f, { force: true });
  }
}

export async function instructions(warmup: number, calls: number): Promise<void> {
  const version = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  const rows: Array<Awaited<ReturnType<typeof countOne>> & { ratio: number }> = [];
  for (const spec of SERVERS) {
    const row = await countOne(spec, warmup, calls);
    const base = rows[0]?.total ?? row.total;
    rows.push({ ...row, ratio: Math.round((base / row.total) * 1000) / 1000 });
    process.stdout.write(`${row.server}: ${row.total} instructions per call\n`);
  }
  saveResult('instructions', { machine: machine(), valgrind: version.stdout.trim(), warmup_calls: warmup, calls, connections: 16, mode: 'stateful', rows });
}

/** The report's section for docs/bench-results/instructions.json. */
export function instructionsSection(result: Record<string, unknown> | undefined): string[] {
  if (!result) return [];
  const rows = result['rows'] as Array<{ server: string; total: number; ratio: number; kinds: Record<string, number> }>;
  const kinds = [...KINDS.map(([k]) => k), OTHER];
  const lines = [
    '## Instructions per call (callgrind)',
    '',
    `\`npm run bench -- instructions\`: each server alone under ${result['valgrind']} (\`--tool=callgrind\`, every thread), counters zeroed after ${result['warmup_calls']} unmeasured calls, then ${result['calls']} calls at ${result['connections']} connections, ${result['mode']}. Two runs of the bare SDK agreed within 0.2%, where calls/s here strays ±15–22%; but a row whose window catches JIT compilation or a major GC reads high (the signed server: 658,000 to 836,000 per call in three runs, this table's run the highest, with ~50,000 more in the JIT compilers and ~90,000 more in GC than the others), so one run per row is a lead, not a verdict. Instructions are not time either (cache misses do not show, and valgrind's CPU has no SHA extensions, so SHA-256 runs OpenSSL's AVX2 code). **ratio** is the baseline's count ÷ this row's, comparable with the CPU ratio of the load table.`,
    '',
    `| server | instructions per call | ratio | ${kinds.join(' | ')} |`,
    `| --- | ---: | ---: | ${kinds.map(() => '---:').join(' | ')} |`,
  ];
  for (const r of rows)
    lines.push(
      `| ${r.server} | ${r.total.toLocaleString('en-US')} | ${r.ratio} | ${kinds.map((k) => (r.kinds[k] ?? 0).toLocaleString('en-US')).join(' | ')} |`,
    );
  const unsigned = rows.find((r) => r.server === CACHED_LABEL);
  const signed = rows.find((r) => r.server === SIGNED_LABEL);
  if (unsigned && signed)
    lines.push('', `Signed ÷ unsigned, as instructions (unsigned ÷ signed): ${Math.round((unsigned.total / signed.total) * 1000) / 1000}.`);
  lines.push('');
  return lines;
}
