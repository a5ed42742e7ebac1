// npm run bench -- scale: the costs of running as several instances,
// as paired ratios in one run. Needs BENCH_DATABASE_URL (a durable PostgreSQL:
// fsync on, as SQLite's synchronous=FULL is) and BENCH_REDIS_URL.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import {
  BENCH_DIST,
  MCP_HEADERS,
  ROOT,
  SECRET,
  callRequests,
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
import { drive, medianInterval, pairedRatio, pairs, prepare, summarise, type DriveOptions, type RunResult } from './load';

const { reps: REPS, seconds: SECONDS, warmup: WARMUP } = SHORT_RUNS;

interface Cell {
  readonly label: string;
  readonly server: Server;
  readonly options: DriveOptions;
}

/** Alternates the cells `REPS` times (each after a short re-warm), then pairs every cell with the first. */
async function paired(cells: Cell[], target: number): Promise<Array<Record<string, unknown>>> {
  for (const c of cells) await drive(c.server, { ...c.options, seconds: WARMUP });
  const runs = new Map<string, RunResult[]>(cells.map((c) => [c.label, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (let i = 0; i < cells.length; i++) {
      const c = cells[(rep + i) % cells.length] as Cell;
      const ready = await prepare(c.server, { ...c.options, seconds: 2 + SECONDS });
      await drive(c.server, { ...c.options, seconds: 2 }, ready);
      runs.get(c.label)?.push(await drive(c.server, { ...c.options, seconds: SECONDS }, ready));
    }
  }
  const base = runs.get(cells[0]?.label as string) ?? [];
  return cells.map((c) => {
    const mine = runs.get(c.label) ?? [];
    const ratio = pairedRatio(mine, base, (x) => x.callsPerSecond);
    const ci = medianInterval(pairs(mine, base, (x) => x.callsPerSecond));
    const row = {
      server: c.label,
      connections: c.options.connections,
      ...summarise(mine),
      ratio,
      ratio_ci90: ci,
      ...(c === cells[0] ? {} : { target, target_met: ci[0] >= target ? 'met (clear)' : ratio >= target ? 'met (within noise)' : 'missed' }),
    };
    process.stdout.write(`${c.label}: ${row.callsPerSecond}/s, ratio ${ratio} [${ci.join('-')}], non2xx ${row.non2xx}\n`);
    return row;
  });
}

async function freshSchema(url: string): Promise<string> {
  const schema = `bench_${randomUUID().replace(/-/g, '')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

const sessionBuddy = (name: string, env: Record<string, string>) =>
  startServer(
    name,
    join(ROOT, 'dist/apps/session-buddy/main.js'),
    [],
    { SESSION_BUDDY_SECRET: SECRET, SESSION_BUDDY_AUTH_FAILURE_LIMIT: '0', ...env },
    'SESSION_BUDDY_PORT',
    [],
    true,
  );

/** Opens a session for `owner` and starts its project, so `checkpoint` has somewhere to write. */
async function startProject(server: Server, bearer: string): Promise<void> {
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${bearer}` };
  const session = await openSession(server.url, headers);
  await (
    await fetch(server.url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'start', arguments: { project: 'bench' } } }),
    })
  ).text();
}

export async function scale(): Promise<void> {
  const databaseUrl = process.env['BENCH_DATABASE_URL'];
  const redisUrl = process.env['BENCH_REDIS_URL'] ?? process.env['CROSSAUTH_TEST_REDIS_URL'];
  if (!databaseUrl || !redisUrl) throw new Error('scale needs BENCH_DATABASE_URL (a durable PostgreSQL) and BENCH_REDIS_URL');
  const pinned = pinSelf();
  const bearer = token('bench');
  const result: Record<string, unknown> = { machine: machine(), pinned, repetitions: REPS, seconds_per_run: SECONDS };

  // 1. Signed calls: the replay store in Redis against in memory (the echo tool, stateful).
  const echo = (name: string, env: Record<string, string> = {}) =>
    startServer(name, join(BENCH_DIST, 'servers', 'crossauth.server.js'), ['--signed'], env, 'PORT', [], true);
  const memory = await echo('signed-memory');
  const viaRedis = await echo('signed-redis', { BENCH_REDIS_URL: redisUrl });
  const signed = { connections: 16, stateful: true, bearer, sign: true };
  result['replay_store'] = await paired(
    [
      { label: 'signed, replay store in memory', server: memory, options: signed },
      { label: 'signed, replay store in Redis', server: viaRedis, options: signed },
    ],
    0.85,
  );
  await Promise.all([memory.stop(), viaRedis.stop()]);

  // 2. Writes: session-buddy's own store_reflection and checkpoint, SQLite against PostgreSQL.
  const writer = token('session-buddy', 'bench-writer');
  const sqlite = await sessionBuddy('sb-sqlite', { SESSION_BUDDY_DATA_DIR: join(ROOT, 'tmp', `bench-scale-${Date.now()}`) });
  const postgres = await sessionBuddy('sb-postgres', { SESSION_BUDDY_DATABASE_URL: await freshSchema(databaseUrl) });
  for (const s of [sqlite, postgres]) await startProject(s, writer);
  const writes: Array<Record<string, unknown>> = [];
  for (const [tool, args] of [
    ['store_reflection', { content: 'a lesson worth keeping about connection pools', tags: ['bench'] }],
    ['checkpoint', { project: 'bench', notes: 'progress', quality_score: 80 }],
  ] as const) {
    const options = { connections: 16, stateful: true, bearer: writer, sign: false, tool, args };
    const rows = await paired(
      [
        { label: `${tool} on SQLite`, server: sqlite, options },
        { label: `${tool} on PostgreSQL`, server: postgres, options },
      ],
      0.5,
    );
    writes.push(...rows.map((r) => ({ tool, ...r })));
  }
  result['writes'] = writes;
  await Promise.all([sqlite.stop(), postgres.stop()]);

  // 3. Two instances behind one load generator, against one (reported, not judged: two cores).
  const reader = token('session-buddy', 'bench-reader');
  const shared = await freshSchema(databaseUrl);
  const env = { SESSION_BUDDY_DATABASE_URL: shared, SESSION_BUDDY_REDIS_URL: redisUrl };
  const one = await sessionBuddy('sb-1', env);
  const two = await sessionBuddy('sb-2', env);
  await startProject(one, reader);
  const read = { tool: 'status', args: { project: 'bench' } };
  const both = async (seconds: number, split: boolean): Promise<number> => {
    const targets = split ? [one, two] : [one];
    const per = 16 / targets.length;
    const results = await Promise.all(
      targets.map(async (s) => {
        const headers = {
          ...MCP_HEADERS,
          authorization: `Bearer ${reader}`,
          'mcp-session-id': await openSession(s.url, { authorization: `Bearer ${reader}` }),
        };
        return autocannon({ url: s.url, connections: per, duration: seconds, requests: callRequests(s.url, headers, read) });
      }),
    );
    return results.reduce((sum, r) => sum + r.requests.total, 0) / seconds;
  };
  await both(WARMUP, true);
  const single: number[] = [];
  const double: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    single.push(await both(SECONDS, false));
    double.push(await both(SECONDS, true));
  }
  const ratios = double.map((d, i) => d / (single[i] as number));
  result['two_instances'] = {
    tool: 'status',
    connections: 16,
    one_instance_calls_per_second: Math.round(median(single)),
    two_instances_calls_per_second: Math.round(median(double)),
    ratio: +median(ratios).toFixed(3),
    ratio_ci90: medianInterval(ratios),
    note: 'one machine with 2 cores runs the load generator and both instances: reported, not judged',
  };
  process.stdout.write(`two instances: ${JSON.stringify(result['two_instances'])}\n`);
  await Promise.all([one.stop(), two.stop()]);
  saveResult('scale', result);
}

type Json = Record<string, unknown>;

/** The scale run's section of docs/benchmarks.md. */
export function scaleSection(result: Json | undefined): string[] {
  if (!result) return [];
  const lines = [
    '## Several instances (PostgreSQL and Redis)',
    '',
    `\`BENCH_DATABASE_URL=… BENCH_REDIS_URL=… npm run bench -- scale\`: ${result['repetitions']} alternating repetitions of ${result['seconds_per_run']} s per cell after a warm-up, each cell after 2 s of unmeasured load on the same server; 16 connections, stateful; ratios are medians of paired runs with 90% bootstrap intervals, as in the load table. PostgreSQL 15 with its defaults (fsync and synchronous_commit on, as SQLite's synchronous=FULL): a write acknowledged is on disk in both. Redis 7 and PostgreSQL on loopback, unpinned: their CPU is not in the server's column, and they may use the load generator's core. Redis without persistence. Machine: ${JSON.stringify(result['machine'])}.`,
    '',
    '| what | server | calls/s | ratio | target | p50 ms | p99 ms | CPU µs/call | non-2xx |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  const row = (what: string, r: Json) => {
    const ci = r['ratio_ci90'] as [number, number];
    const target = r['target'] === undefined ? 'baseline' : `≥ ${r['target']}×: ${r['target_met']}`;
    lines.push(
      `| ${what} | ${r['server']} | ${r['callsPerSecond']} | ${r['ratio']} [${ci[0]}–${ci[1]}] | ${target} | ${r['p50']} | ${r['p99']} | ${r['cpuMicrosPerCall']} | ${r['non2xx']} |`,
    );
  };
  for (const r of (result['replay_store'] as Json[]) ?? []) row('signed echo', r);
  for (const r of (result['writes'] as Json[]) ?? []) row(String(r['tool']), r);
  const two = result['two_instances'] as Json | undefined;
  if (two) {
    const ci = two['ratio_ci90'] as [number, number];
    lines.push(
      '',
      `Two instances on one PostgreSQL and one Redis, 8 connections each, against one instance with 16 (\`${two['tool']}\`, a read): ${two['one_instance_calls_per_second']} → ${two['two_instances_calls_per_second']} calls/s, ×${two['ratio']} [${ci[0]}–${ci[1]}]. Not a scaling figure: the load generator and both instances share this machine's 2 cores.`,
    );
  }
  lines.push('');
  return lines;
}
