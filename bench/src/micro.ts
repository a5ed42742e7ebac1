import { createHmac } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { MemoryNonceStore, TokenIssuerService, TokenVerifierService, resolveAuthOptions, signRequest, verifyRequest } from '@crossauth/auth';
import { SECRET, machine, median, saveResult } from './harness';

/** ops/s of `fn`, median of `reps` runs of ~`ms` each. */
export function measure(fn: (i: number) => unknown, ms = 700, reps = 5): number {
  const results: number[] = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let k = 0; k < 200; k++) fn(n++);
      now = performance.now();
    }
    results.push((n / (now - start)) * 1000);
  }
  return Math.round(median(results));
}

export async function micro(): Promise<void> {
  const options = resolveAuthOptions({ secret: SECRET, issuer: 'orchestrator', allowedIssuers: ['orchestrator'], audiences: ['bench'] });
  const issuer = new TokenIssuerService(options, new JwtService({}));
  const token = issuer.mint({ subject: 'bench-user', audience: 'bench', scopes: ['read', 'write'] }).token;
  const signingInput = token.slice(0, token.lastIndexOf('.'));
  const key = options.keyRing?.current.key;
  const cold = new TokenVerifierService({ ...options, cacheEnabled: false });
  const cached = new TokenVerifierService(options);
  const jwt = new JwtService({});

  const raw = measure(() =>
    createHmac('sha256', key as never)
      .update(signingInput)
      .digest(),
  );
  const rawString = measure(() => createHmac('sha256', SECRET).update(signingInput).digest());
  const verifyCold = measure(() => cold.verify(token));
  const verifyCached = measure(() => cached.verify(token));
  const jsonwebtokenKeyObject = measure(() => jwt.verify(token, { secret: key as never, algorithms: ['HS256'] }), 700, 3);
  const jsonwebtokenString = measure(() => jwt.verify(token, { secret: SECRET, algorithms: ['HS256'] }), 700, 3);
  const mint = measure(() => issuer.mint({ subject: 'bench-user', audience: 'bench', scopes: ['read'] }));

  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
  const request = { method: 'POST', authority: '127.0.0.1:8678', path: '/mcp', body };
  const signing = { kid: options.keyRing?.current.kid as string, key: options.keyRing?.current.requestSigningKey as never };
  const sign = measure(() => signRequest(request, signing));
  const presigned = Array.from({ length: 400_000 }, () => signRequest(request, signing));
  // Every verification consumes a fresh nonce from the real in-memory store.
  const nonces = new MemoryNonceStore();
  let next = 0;
  const verifySig = measure(() => verifyRequest({ ...request, headers: presigned[next++] as never }, { keyFor: () => signing.key, nonces }), 300, 3);

  const result = {
    machine: machine(),
    token_bytes: token.length,
    ops_per_second: {
      'raw HMAC-SHA256 over the JWT signing input (KeyObject)': raw,
      'raw HMAC-SHA256 over the JWT signing input (string key)': rawString,
      'crossauth verify, cache miss (cache off)': verifyCold,
      'crossauth verify, cache hit': verifyCached,
      'jsonwebtoken.verify via @nestjs/jwt, KeyObject secret': jsonwebtokenKeyObject,
      'jsonwebtoken.verify via @nestjs/jwt, string secret': jsonwebtokenString,
      'crossauth mint (@nestjs/jwt, KeyObject)': mint,
      'RFC 9421 request sign': sign,
      'RFC 9421 request verify (parse, digest, HMAC, nonce store)': verifySig,
    },
    ratios: {
      'verify miss / raw HMAC': +(verifyCold / raw).toFixed(2),
      'verify hit / raw HMAC': +(verifyCached / raw).toFixed(2),
    },
    targets: { 'verify miss >= 0.4x raw HMAC': verifyCold / raw >= 0.4, 'verify hit >= 2x raw HMAC': verifyCached / raw >= 2 },
  };
  saveResult('micro', result);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
