// The people's grants of `npm run bench -- oauth`: authorization-code
// exchanges and refresh-token grants against client_credentials grants on
// one orchestrator, paired in one run, on SQLite and (with a database) on
// PostgreSQL; and the server's CPU per complete sign-in, the password KDF
// apart.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { Client as PgClient } from 'pg';
import { hashPassword, passwordMatches } from '@crossauth/auth';
import { ROOT, SECRET, SHORT_RUNS, cpuMicros, median, startServer, type Server } from './harness';
import { medianInterval } from './load';
import { run, summary, type Run } from './oauth';

const { reps: REPS, seconds: SECONDS, warmup: WARMUP } = SHORT_RUNS;
const RESOURCE = 'http://127.0.0.1:8678/mcp';
const REDIRECT = 'http://127.0.0.1:40000/callback';
const PASSWORD = 'bench password, long enough';
const VERIFIER = randomBytes(32).toString('base64url');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(ROOT, 'tools/cli/dist/main.js'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', CROSSAUTH_SECRET: SECRET, ...env },
    encoding: 'utf8',
  });

/** A person's browser: its cookie jar, enough for the sign-in pages. */
class Jar {
  private readonly cookies = new Map<string, string>();
  async go(url: string, form?: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(form ? FORM : {}), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [name, value] = ((line.split(';')[0] as string) + '=').split('=') as [string, string];
      if (value) this.cookies.set(name, value);
    }
    return res;
  }
}

const hiddenFields = (html: string): Record<string, string> =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1],
      (m[2] as string).replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n))),
    ]),
  );

function authorizeUrl(base: string, prompt?: string): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: 'desk',
    redirect_uri: REDIRECT,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    resource: RESOURCE,
    scope: 'read',
    ...(prompt ? { prompt } : {}),
  });
  return `${base}/oauth/authorize?${params}`;
}

/** One complete sign-in: authorize, login (the KDF), consent, code; resolves the code. */
async function signIn(base: string, jar = new Jar()): Promise<string> {
  const login = await jar.go(authorizeUrl(base, 'consent'));
  const consent = await jar.go(`${base}/oauth/authorize`, { ...hiddenFields(await login.text()), username: 'pat', password: PASSWORD });
  const answer = await jar.go(`${base}/oauth/authorize`, { ...hiddenFields(await consent.text()), decision: 'approve' });
  return new URL(answer.headers.get('location') as string).searchParams.get('code') as string;
}

/** Codes from a signed-in browser with a remembered consent: one GET each, no KDF. */
async function codes(base: string, jar: Jar, count: number): Promise<string[]> {
  const out: string[] = [];
  const worker = async () => {
    while (out.length < count) {
      const res = await jar.go(authorizeUrl(base));
      out.push(new URL(res.headers.get('location') as string).searchParams.get('code') as string);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

const exchangeBody = (code: string) =>
  new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'desk', redirect_uri: REDIRECT, code_verifier: VERIFIER }).toString();

/** Code exchanges, each code used once, drawn from a pool made just before the run (codes live 60 s). */
function exchangeRequests(pool: string[]): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: '/oauth/token',
      headers: FORM,
      setupRequest: (req: autocannon.Request) => ({ ...req, body: exchangeBody(pool.pop() ?? 'exhausted') }),
    } as autocannon.Request,
  ];
}

/** Refresh grants: each takes a live refresh token from the pool and puts its replacement back. */
function refreshRequests(pool: string[]): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: '/oauth/token',
      headers: FORM,
      setupRequest: (req: autocannon.Request) => ({
        ...req,
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pool.shift() ?? 'exhausted', client_id: 'desk' }).toString(),
      }),
      onResponse: (status: number, body: string) => {
        if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
      },
    } as autocannon.Request,
  ];
}

interface EngineResult {
  readonly engine: string;
  readonly client_credentials: Run;
  readonly authorization_code: Run;
  readonly refresh_token: Run;
  readonly code_ratio: number;
  readonly code_ratio_ci90: [number, number];
  readonly refresh_ratio: number;
  readonly refresh_ratio_ci90: [number, number];
  readonly sign_in_cpu_micros?: number;
}

async function measure(engine: string, env: Record<string, string>, machineGrant: autocannon.Request[] | undefined): Promise<EngineResult> {
  const server: Server = await startServer(
    `orchestrator-${engine}`,
    join(ROOT, 'dist/apps/orchestrator/main.js'),
    [],
    { ORCHESTRATOR_AUTH_SECRET: SECRET, ORCHESTRATOR_SESSION_BUDDY_URL: 'http://127.0.0.1:9/mcp', ORCHESTRATOR_FIRST_ACCOUNT_LINK: 'false', ...env },
    'ORCHESTRATOR_PORT',
    // BENCH_PROFILE_DIR: a CPU profile of the server for the whole measurement, to see where a grant's time goes.
    process.env['BENCH_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`] : [],
    true,
  );
  const base = server.url.replace(/\/mcp$/, '');
  try {
    if (cli(['user', 'add', 'pat', '--url', server.url], { CROSSAUTH_USER_PASSWORD: PASSWORD }).status !== 0) throw new Error('could not add the bench user');
    if (cli(['client', 'add', 'desk', '--public', '--scope', 'read', '--resource', RESOURCE, '--redirect-uri', REDIRECT, '--url', server.url]).status !== 0)
      throw new Error('could not add the bench public client');
    const added = cli(['client', 'add', 'machine', '--scope', 'read', '--resource', RESOURCE, '--url', server.url]);
    const secret = /client_secret:\s+(\S+)/.exec(added.stdout)?.[1];
    if (!secret) throw new Error(`could not register the machine client: ${added.stderr}`);
    const grant = machineGrant ?? [
      {
        method: 'POST',
        path: '/oauth/token',
        headers: { ...FORM, authorization: `Basic ${Buffer.from(`machine:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'read' }).toString(),
      },
    ];

    // Complete sign-ins, each a fresh browser: the server's CPU per sign-in, KDF included.
    const before = cpuMicros(server);
    const SIGN_INS = 20;
    for (let i = 0; i < SIGN_INS; i++) await signIn(base);
    const signInCpu = Math.round((cpuMicros(server) - before) / SIGN_INS);

    const jar = new Jar();
    await signIn(base, jar);
    const refreshPool: string[] = [];
    // A run ends with requests in flight, whose replacements never come back: the pool is topped up before each.
    const topUp = async () => {
      for (const code of await codes(base, jar, Math.max(0, 64 - refreshPool.length))) {
        const res = await fetch(`${base}/oauth/token`, { method: 'POST', headers: FORM, body: exchangeBody(code) });
        refreshPool.push(((await res.json()) as { refresh_token: string }).refresh_token);
      }
      return refreshRequests(refreshPool);
    };
    await run(server, grant, base, WARMUP);
    // The warm-up also says how many codes a run uses: each repetition gets half as many again, so none runs dry.
    const warm = await run(server, exchangeRequests(await codes(base, jar, 20_000)), base, 3);
    const poolSize = Math.ceil(warm.callsPerSecond * SECONDS * 1.5) + 500;
    await run(server, await topUp(), base, WARMUP);
    const rows = { cc: [] as Run[], code: [] as Run[], refresh: [] as Run[] };
    for (let rep = 0; rep < REPS; rep++) {
      const order: Array<[Run[], () => Promise<autocannon.Request[]>]> = [
        [rows.cc, async () => grant],
        [rows.code, async () => exchangeRequests(await codes(base, jar, poolSize))],
        [rows.refresh, topUp],
      ];
      if (rep % 2) order.reverse();
      for (const [into, requests] of order) into.push(await run(server, await requests(), base, SECONDS));
    }
    const codeRatios = rows.code.map((r, i) => r.callsPerSecond / (rows.cc[i] as Run).callsPerSecond);
    const refreshRatios = rows.refresh.map((r, i) => r.callsPerSecond / (rows.cc[i] as Run).callsPerSecond);
    return {
      engine,
      client_credentials: summary(rows.cc),
      authorization_code: summary(rows.code),
      refresh_token: summary(rows.refresh),
      code_ratio: +median(codeRatios).toFixed(3),
      code_ratio_ci90: medianInterval(codeRatios),
      refresh_ratio: +median(refreshRatios).toFixed(3),
      refresh_ratio_ci90: medianInterval(refreshRatios),
      sign_in_cpu_micros: signInCpu,
    };
  } finally {
    await server.stop();
  }
}

/** CPU of one password check with the stored parameters, in this process (the server runs the same node:crypto scrypt). */
async function kdfCpuMicros(): Promise<number> {
  const stored = await hashPassword(PASSWORD);
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const before = process.cpuUsage();
    await passwordMatches(PASSWORD, stored);
    const used = process.cpuUsage(before);
    samples.push(used.user + used.system);
  }
  return Math.round(median(samples));
}

/** The rows for SQLite, and for PostgreSQL when BENCH_DATABASE_URL or CROSSAUTH_TEST_DATABASE_URL names one (a fresh schema, dropped after). */
export async function peopleGrants(): Promise<Record<string, unknown>> {
  const engines: EngineResult[] = [await measure('sqlite', { ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-people-')) }, undefined)];
  const databaseUrl = process.env['BENCH_DATABASE_URL'] ?? process.env['CROSSAUTH_TEST_DATABASE_URL'];
  if (databaseUrl) {
    const schema = `bench_${randomUUID().replace(/-/g, '')}`;
    const sql = async (statement: string) => {
      const client = new PgClient({ connectionString: databaseUrl });
      await client.connect();
      await client.query(statement).finally(() => client.end());
    };
    await sql(`CREATE SCHEMA ${schema}`);
    try {
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      engines.push(await measure('postgres', { ORCHESTRATOR_DATABASE_URL: url.toString() }, undefined));
    } finally {
      await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  }
  return { engines, kdf_cpu_micros_per_check: await kdfCpuMicros(), targets: { authorization_code: 0.3, refresh_token: 0.5 } };
}

type Json = Record<string, unknown>;

const verdict = (ratio: number, ci: [number, number], target: number) => (ci[0] >= target ? 'met (clear)' : ratio >= target ? 'met (within noise)' : 'missed');

/** The people's grants section of docs/benchmarks.md. */
export function peopleGrantsSection(result: Json | undefined): string[] {
  if (!result) return [];
  const engines = result['engines'] as EngineResult[];
  const kdf = result['kdf_cpu_micros_per_check'] as number;
  const lines = [
    '### People: authorization code and refresh grants',
    '',
    `Same run, same orchestrator per engine: \`client_credentials\` grants (a machine), authorization-code exchanges (a public client with PKCE; each code used once, made just before each repetition from a signed-in browser with a remembered consent) and refresh-token grants (16 grants rotating their refresh tokens), ${REPS} alternating repetitions of ${SECONDS} s at 16 connections. A code exchange writes the redemption, a grant and its first refresh token; a refresh marks one token used, supersedes its parent and writes its replacement.`,
    '',
    '| engine | request | calls/s | CPU µs/call | non-2xx | ÷ client_credentials | target |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const e of engines) {
    lines.push(
      `| ${e.engine} | client_credentials | ${e.client_credentials.callsPerSecond} | ${e.client_credentials.cpuMicrosPerCall} | ${e.client_credentials.non2xx} | 1 | |`,
    );
    lines.push(
      `| ${e.engine} | authorization_code | ${e.authorization_code.callsPerSecond} | ${e.authorization_code.cpuMicrosPerCall} | ${e.authorization_code.non2xx} | ${e.code_ratio} [${e.code_ratio_ci90.join('–')}] | ≥ 0.3: ${verdict(e.code_ratio, e.code_ratio_ci90, 0.3)} |`,
    );
    lines.push(
      `| ${e.engine} | refresh_token | ${e.refresh_token.callsPerSecond} | ${e.refresh_token.cpuMicrosPerCall} | ${e.refresh_token.non2xx} | ${e.refresh_ratio} [${e.refresh_ratio_ci90.join('–')}] | ≥ 0.5: ${verdict(e.refresh_ratio, e.refresh_ratio_ci90, 0.5)} |`,
    );
  }
  lines.push(
    '',
    'Against client_credentials, which writes nothing, each of these is a durable write. The code exchange spends its code in the transaction that starts its grant, and a refresh is minted before its one transaction, so neither pays a second commit. On SQLite (`synchronous=FULL`) the writes asked for at the same moment share one commit, so one fsync (group commit, libs/storage). On PostgreSQL each is its own transaction: a refresh makes three reads (the client, the token with its grant, the person) and then BEGIN, the token row locked, one statement of writes, COMMIT; the levers left there are fewer reads per refresh and batched commits. A non-2xx count on a code row is codes running out before a repetition ended (the pool is sized from the warm-up rate).',
    '',
  );
  for (const e of engines)
    if (e.sign_in_cpu_micros !== undefined)
      lines.push(
        `A complete sign-in on ${e.engine} (authorize, login, consent, code; 20 fresh browsers, one after another) costs the server ${Math.round(e.sign_in_cpu_micros / 1000)} ms of CPU, of which the password check (scrypt N=2^15, r=8, p=3, measured alone: ${Math.round(kdf / 1000)} ms) is ${Math.round((100 * kdf) / e.sign_in_cpu_micros)} %; the rest, ${Math.round((e.sign_in_cpu_micros - kdf) / 1000)} ms, is the three pages, the cookies and the code.`,
      );
  lines.push('');
  return lines;
}
