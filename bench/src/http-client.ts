// npm run bench -- http-client: the orchestrator's downstream POST on two
// clients, node:http (request + keep-alive Agent, the answer read from the
// IncomingMessage stream) and undici's dispatcher with a raw handler (what
// the orchestrator uses for 2026-07-28 calls), against a fixed-answer server
// on the other core. One request in flight; the bench process's own CPU per
// POST is the client's cost.
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { Agent as UndiciAgent } from 'undici';
import { BENCH_DIST, machine, median, pinSelf, saveResult, startServer } from './harness';
import { medianInterval } from './load';

const ROUNDS = Number(process.env['BENCH_REPS'] ?? 6);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 2.5);

// The headers the orchestrator sends with a 2026-07-28 call (token and signature of realistic sizes).
const HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'status',
  authorization: `Bearer ${'t'.repeat(420)}`,
  'signature-input': `sig1=("@method" "@authority" "@path" "content-digest");created=1764633600;keyid="${'k'.repeat(16)}";nonce="${'n'.repeat(22)}"`,
  signature: `sig1=:${'s'.repeat(44)}:`,
};
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'status',
    arguments: { project: 'bench' },
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} },
  },
});

type Post = () => Promise<number>;

function nodeHttpClient(url: URL): Post {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const headers = { ...HEADERS, 'content-length': String(Buffer.byteLength(BODY)) };
  return () =>
    new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8').length > 0 ? (res.statusCode ?? 0) : 0));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end(BODY);
    });
}

function undiciClient(url: URL): Post {
  const dispatcher = new UndiciAgent({ connections: 64 });
  return () =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      dispatcher.dispatch(
        { origin: url.origin, path: url.pathname, method: 'POST', headers: HEADERS, body: BODY },
        {
          onRequestStart: () => undefined,
          onResponseStart: (_c, statusCode) => void (status = statusCode),
          onResponseData: (_c, chunk) => void chunks.push(chunk),
          onResponseEnd: () => resolve(Buffer.concat(chunks).toString('utf8').length > 0 ? status : 0),
          onResponseError: (_c, error) => reject(error),
        },
      );
    });
}

/** Closed loop, one request in flight, for `seconds`: CPU µs of this process per POST, and POSTs per second. */
async function run(post: Post, seconds: number): Promise<{ cpuMicrosPerPost: number; postsPerSecond: number }> {
  const end = Date.now() + seconds * 1000;
  const cpu = process.cpuUsage();
  let posts = 0;
  while (Date.now() < end) {
    if ((await post()) !== 200) throw new Error('the fixed-answer server did not answer 200');
    posts++;
  }
  const used = process.cpuUsage(cpu);
  return { cpuMicrosPerPost: (used.user + used.system) / posts, postsPerSecond: posts / seconds };
}

export async function httpClient(): Promise<void> {
  const pinned = pinSelf();
  const server = await startServer('fixed-answer', join(BENCH_DIST, 'servers', 'fixed-answer.server.js'), [], {}, 'PORT', [], true);
  const url = new URL(server.url);
  const clients = { 'node:http': nodeHttpClient(url), 'undici dispatch': undiciClient(url) };
  for (const post of Object.values(clients)) await run(post, 2);
  const runs: Record<string, Array<{ cpuMicrosPerPost: number; postsPerSecond: number }>> = { 'node:http': [], 'undici dispatch': [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which client goes first, so neither always follows the other.
    const order = round % 2 ? (['undici dispatch', 'node:http'] as const) : (['node:http', 'undici dispatch'] as const);
    for (const name of order) runs[name]?.push(await run(clients[name], SECONDS));
  }
  await server.stop();
  const nodeRuns = runs['node:http'] ?? [];
  const undiciRuns = runs['undici dispatch'] ?? [];
  const ratios = undiciRuns.map((u, i) => u.cpuMicrosPerPost / (nodeRuns[i]?.cpuMicrosPerPost ?? Number.NaN));
  const row = (name: string, r: typeof nodeRuns) => ({
    client: name,
    cpu_us_per_post: +median(r.map((x) => x.cpuMicrosPerPost)).toFixed(1),
    posts_per_second: Math.round(median(r.map((x) => x.postsPerSecond))),
  });
  const result = {
    machine: machine(),
    pinned,
    rounds: ROUNDS,
    seconds_per_run: SECONDS,
    rows: [row('node:http', nodeRuns), row('undici dispatch', undiciRuns)],
    undici_over_node_cpu: +median(ratios).toFixed(3),
    undici_over_node_cpu_ci90: medianInterval(ratios),
  };
  saveResult('http-client', result);
  for (const r of result.rows) process.stdout.write(`${r.client}: ${r.cpu_us_per_post} µs CPU per POST, ${r.posts_per_second} POSTs/s\n`);
  process.stdout.write(`undici ÷ node:http CPU per POST: ${result.undici_over_node_cpu} ${JSON.stringify(result.undici_over_node_cpu_ci90)}\n`);
}

/** The docs/benchmarks.md section for `http-client.json`. */
export function httpClientSection(result: Record<string, unknown> | undefined): string[] {
  if (!result) return [];
  const rows = result['rows'] as Array<Record<string, unknown>>;
  const ci = result['undici_over_node_cpu_ci90'] as number[];
  return [
    "## The orchestrator's downstream POST: node:http against undici (`npm run bench -- http-client`)",
    '',
    `One 2026-07-28 \`tools/call\` POST with the orchestrator's headers (token, signature) to a plain node:http server answering a fixed result the size of session-buddy's \`status\`, one request in flight, ${result['rounds']} alternating rounds of ${result['seconds_per_run']} s per client; the bench process's CPU per POST is the client's cost. Machine ${JSON.stringify(result['machine'])}; ${result['pinned'] ? 'the client pinned to core 0, the server to the other' : 'not pinned'}.`,
    '',
    '| client | CPU µs per POST | POSTs/s |',
    '| --- | ---: | ---: |',
    ...rows.map((r) => `| ${r['client']} | ${r['cpu_us_per_post']} | ${r['posts_per_second']} |`),
    '',
    `undici ÷ node:http, CPU per POST: ${result['undici_over_node_cpu']} [${ci.join(', ')}] (median of per-round ratios, 90% bootstrap interval).`,
    '',
  ];
}
