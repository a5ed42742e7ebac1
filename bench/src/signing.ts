// npm run bench -- signing: public-key tokens. In-process, EdDSA and
// ES256 verification on a cache miss against raw crypto.verify over the same
// signing input; then session-buddy verifying with the orchestrator's JWKS
// (EdDSA) against session-buddy with the shared secret (HS256), paired in one
// run at 16 connections.
import { verify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import autocannon from 'autocannon';
import { JwtService } from '@nestjs/jwt';
import {
  TokenIssuerService,
  TokenVerifierService,
  decodeBase64UrlStrict,
  generateSigningKey,
  resolveAuthOptions,
  type PrivateSigningKey,
} from '@crossauth/auth';
import {
  MCP_HEADERS,
  ROOT,
  SECRET,
  SHORT_RUNS,
  callRequests,
  machine,
  median,
  openSession,
  pinSelf,
  saveResult,
  startServer,
  token,
  type Server,
} from './harness';
import { medianInterval } from './load';
import { run as runCalls, summary, type Run } from './oauth';
import { measure } from './micro';

const { reps: REPS, seconds: SECONDS, warmup: WARMUP } = SHORT_RUNS;
type Json = Record<string, unknown>;

/** Full verification with the cache off against the signature check alone, same token, alternating, medians. */
function verifyMissVsRaw(key: PrivateSigningKey): Json {
  const source = { find: (kid: string) => (kid === key.kid ? key : undefined), keyIds: [key.kid], issuers: [] as string[] };
  const signer = resolveAuthOptions({
    issuer: 'orchestrator',
    allowedIssuers: ['orchestrator'],
    audiences: ['bench'],
    signingKeys: { ...source, current: key },
  });
  const tokenText = new TokenIssuerService(signer, new JwtService({})).mint({
    subject: 'bench-user',
    audience: 'bench',
    scopes: ['read', 'write'],
    ttlSeconds: 3600,
  }).token;
  const verifier = new TokenVerifierService(
    resolveAuthOptions({ issuer: 'x', allowedIssuers: ['orchestrator'], audiences: ['bench'], publicKeys: source, verificationCache: { enabled: false } }),
  );
  const cut = tokenText.lastIndexOf('.');
  const input = Buffer.from(tokenText.slice(0, cut), 'ascii');
  const signature = decodeBase64UrlStrict(tokenText.slice(cut + 1)) as Buffer;
  const raw =
    key.alg === 'EdDSA'
      ? () => verify(null, input, key.publicKey, signature)
      : () => verify('sha256', input, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  const ratios: number[] = [];
  const rawRuns: number[] = [];
  const ours: number[] = [];
  for (let rep = 0; rep < 7; rep++) {
    const pair =
      rep % 2
        ? [() => ours.push(measure(() => verifier.verify(tokenText), 400, 1)), () => rawRuns.push(measure(raw, 400, 1))]
        : [() => rawRuns.push(measure(raw, 400, 1)), () => ours.push(measure(() => verifier.verify(tokenText), 400, 1))];
    pair.forEach((run) => run());
    ratios.push((ours[rep] as number) / (rawRuns[rep] as number));
  }
  return {
    raw_verify_per_second: Math.round(median(rawRuns)),
    crossauth_verify_miss_per_second: Math.round(median(ours)),
    ratio: +median(ratios).toFixed(3),
    ratio_ci90: medianInterval(ratios),
  };
}

const run = (server: Server, requests: autocannon.Request[]) => runCalls(server, requests, server.url, SECONDS);

export async function signing(): Promise<void> {
  const eddsa = verifyMissVsRaw(generateSigningKey('EdDSA'));
  const es256 = verifyMissVsRaw(generateSigningKey('ES256'));
  process.stdout.write(`${JSON.stringify({ eddsa, es256 })}\n`);

  const pinned = pinSelf();
  const orchestrator = await startServer(
    'orchestrator',
    join(ROOT, 'dist/apps/orchestrator/main.js'),
    [],
    {
      ORCHESTRATOR_AUTH_SECRET: SECRET,
      ORCHESTRATOR_SIGNING_ALG: 'EdDSA',
      ORCHESTRATOR_OAUTH_TOKEN_TTL_SECONDS: '3600',
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-signing-')),
      ORCHESTRATOR_SESSION_BUDDY_URL: 'http://127.0.0.1:9/mcp',
    },
    'ORCHESTRATOR_PORT',
    [],
    true,
  );
  const base = orchestrator.url.replace(/\/mcp$/, '');
  const sessionBuddy = (name: string, env: Record<string, string>) =>
    startServer(
      name,
      join(ROOT, 'dist/apps/session-buddy/main.js'),
      [],
      { SESSION_BUDDY_AUTH_FAILURE_LIMIT: '0', SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), `bench-${name}-`)), ...env },
      'SESSION_BUDDY_PORT',
      [],
      true,
    );
  const hs = await sessionBuddy('hs256', { SESSION_BUDDY_SECRET: SECRET });
  const ed = await sessionBuddy('eddsa', { SESSION_BUDDY_JWKS_URL: `${base}/.well-known/jwks.json`, SESSION_BUDDY_AUTHORIZATION_SERVER: base });
  // An EdDSA token from the real token endpoint, for the JWKS instance's URL.
  const added = spawnSync(
    process.execPath,
    [join(ROOT, 'tools/cli/dist/main.js'), 'client', 'add', 'bench', '--scope', 'read write', '--resource', ed.url, '--url', orchestrator.url],
    { env: { PATH: process.env['PATH'] ?? '', CROSSAUTH_SECRET: SECRET }, encoding: 'utf8' },
  );
  const clientSecret = /client_secret:\s+(\S+)/.exec(added.stdout)?.[1];
  if (!clientSecret) throw new Error(`could not register the bench client: ${added.stderr}`);
  const grant = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'bench', client_secret: clientSecret, resource: ed.url }),
  });
  const edToken = ((await grant.json()) as { access_token: string }).access_token;
  const requestsFor = async (server: Server, bearer: string) => {
    const headers: Record<string, string> = { ...MCP_HEADERS, authorization: `Bearer ${bearer}` };
    headers['mcp-session-id'] = await openSession(server.url, headers);
    return callRequests(server.url, headers, { tool: 'list_sessions', args: {} });
  };
  const hsRequests = await requestsFor(hs, token('session-buddy'));
  const edRequests = await requestsFor(ed, edToken);
  // Warm-up: JIT, pools, the verification cache.
  for (const [server, requests] of [
    [hs, hsRequests],
    [ed, edRequests],
  ] as const)
    await autocannon({ url: server.url, connections: 16, duration: WARMUP, requests });
  const hsRuns: Run[] = [];
  const edRuns: Run[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    if (rep % 2) {
      edRuns.push(await run(ed, edRequests));
      hsRuns.push(await run(hs, hsRequests));
    } else {
      hsRuns.push(await run(hs, hsRequests));
      edRuns.push(await run(ed, edRequests));
    }
  }
  await Promise.all([hs.stop(), ed.stop(), orchestrator.stop()]);
  const ratios = edRuns.map((e, i) => e.callsPerSecond / (hsRuns[i] as Run).callsPerSecond);
  const ratio = +median(ratios).toFixed(3);
  const ci = medianInterval(ratios);
  const judge = (r: number, interval: [number, number], target: number) =>
    interval[0] >= target ? 'met (clear)' : r >= target ? 'met (within noise)' : interval[1] >= target ? 'missed (within noise)' : 'missed';
  const result = {
    machine: machine(),
    pinned,
    verify_miss: {
      EdDSA: eddsa,
      ES256: es256,
      target: 0.8,
      EdDSA_verdict: judge(eddsa['ratio'] as number, eddsa['ratio_ci90'] as [number, number], 0.8),
      ES256_verdict: judge(es256['ratio'] as number, es256['ratio_ci90'] as [number, number], 0.8),
    },
    calls: {
      repetitions: REPS,
      seconds_per_run: SECONDS,
      connections: 16,
      tool: 'list_sessions',
      hs256: summary(hsRuns),
      eddsa_jwks: summary(edRuns),
      ratio,
      ratio_ci90: ci,
      target: 0.95,
      verdict: judge(ratio, ci, 0.95),
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  saveResult('signing', result);
}

/** The public-key section of docs/benchmarks.md. */
export function signingSection(result: Json | undefined): string[] {
  if (!result) return [];
  const v = result['verify_miss'] as Json;
  const c = result['calls'] as Json;
  const row = (alg: string) => {
    const r = v[alg] as Json;
    const ci = r['ratio_ci90'] as [number, number];
    return `| ${alg} | ${r['raw_verify_per_second']} | ${r['crossauth_verify_miss_per_second']} | ${r['ratio']} [${ci[0]}–${ci[1]}] | ${String(v[`${alg}_verdict`])} |`;
  };
  const h = c['hs256'] as Json;
  const e = c['eddsa_jwks'] as Json;
  const ci = c['ratio_ci90'] as [number, number];
  return [
    '## Public-key tokens (EdDSA, ES256)',
    '',
    `\`npm run bench -- signing\`. Verification on a cache miss is the whole check (split, header, key lookup, signature, claims) with the cache off, against \`crypto.verify\` alone over the same signing input and signature, 7 alternating runs in one process. Machine: ${JSON.stringify(result['machine'])}.`,
    '',
    '| algorithm | crypto.verify/s | crossauth verify miss/s | ratio [90% CI] | target ≥ 0.8× |',
    '| --- | ---: | ---: | ---: | --- |',
    row('EdDSA'),
    row('ES256'),
    '',
    `Authenticated calls (\`list_sessions\` in a session, 16 connections, ${c['repetitions']} alternating repetitions of ${c['seconds_per_run']} s): session-buddy verifying the orchestrator's EdDSA tokens with its JWKS against session-buddy with the shared secret (HS256).`,
    '',
    '| session-buddy | calls/s | CPU µs/call | non-2xx |',
    '| --- | ---: | ---: | ---: |',
    `| HS256, shared secret | ${h['callsPerSecond']} | ${h['cpuMicrosPerCall']} | ${h['non2xx']} |`,
    `| EdDSA, JWKS, no secret | ${e['callsPerSecond']} | ${e['cpuMicrosPerCall']} | ${e['non2xx']} |`,
    '',
    `EdDSA ÷ HS256: ${c['ratio']} [${ci[0]}–${ci[1]}]; target ≥ 0.95×: ${String(c['verdict'])}. The verification cache holds each verified token until its \`exp\`, so a token's signature is checked once and every later call costs the same in both modes.`,
    '',
  ];
}
