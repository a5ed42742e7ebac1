import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { TOKEN_SIGNING_ALGORITHMS, algorithmOfJwk, type AsymmetricAlgorithm, type PublicSigningKey } from './asymmetric-key';
import { isPlainKeyId } from '../tokens/jwt-codec';
import type { PublicKeySource } from './public-key-source';

/** How a {@link JwksKeySource} fetches and refreshes. Times in seconds. */
export interface JwksKeySourceOptions {
  /** The issuer's `jwks_uri`, or how to find it (from the issuer's metadata) before the first fetch; retried until found. */
  readonly url: string | (() => Promise<string>);
  /** The issuer (`iss`) these keys speak for; tokens verified with them must name it. */
  readonly issuer: string;
  /** Longest time between refreshes (a shorter `Cache-Control: max-age` wins). Default 300. */
  readonly refreshSeconds?: number;
  /** Shortest time between two fetches, whatever asks for them (unknown `kid`s included). Default 10. */
  readonly minRefetchSeconds?: number;
  /** Per-fetch timeout. Default 5,000 ms. */
  readonly timeoutMs?: number;
  /** Algorithms keys may verify; keys of others are left out. Default EdDSA and ES256 (an outside issuer may add RS256, PS256). */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

/** What a JWKS fetch may bring back at most: bounds memory and parse time. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_KEYS = 32;
/** RSA keys shorter than this are refused (NIST SP 800-131A; RFC 7518 §3.3 makes 2048 the floor). */
export const MIN_RSA_BITS = 2048;

/** Why a JWKS document was not taken. */
export class JwksError extends Error {
  override readonly name = 'JwksError';
}

/**
 * Parses a JWKS answer into verification keys of the allowed algorithms
 * (EdDSA and ES256 unless told otherwise) with a plain `kid`, public members
 * only. Each key's algorithm comes from its type (an RSA key verifies the
 * `alg` it names, RS256 when it names none); a key whose `alg` says otherwise,
 * RSA keys under {@link MIN_RSA_BITS} bits, and keys of other types or uses
 * are left out. Throws when nothing usable remains.
 */
export function parseJwks(text: string, issuer: string, algorithms: readonly AsymmetricAlgorithm[] = TOKEN_SIGNING_ALGORITHMS): PublicSigningKey[] {
  if (text.length > MAX_BODY_BYTES) throw new JwksError(`JWKS is larger than ${MAX_BODY_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new JwksError('JWKS is not JSON');
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new JwksError('JWKS has no keys array');
  const out: PublicSigningKey[] = [];
  const seen = new Set<string>();
  for (const jwk of keys.slice(0, MAX_KEYS) as JsonWebKey[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    // A private member means the issuer is misconfigured; using the key would still be safe, publishing it is not ours to bless.
    if ('d' in jwk || 'k' in jwk) continue;
    const alg = algorithmOfJwk(jwk);
    if (!alg || !algorithms.includes(alg)) continue;
    if (jwk.alg !== undefined && jwk.alg !== alg && !(alg === 'EdDSA' && jwk.alg === 'Ed25519')) continue;
    if (!isPlainKeyId(jwk.kid) || seen.has(jwk.kid)) continue;
    try {
      const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
      if (jwk.kty === 'RSA' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) continue;
      out.push({ kid: jwk.kid, alg, publicKey, issuer });
      seen.add(jwk.kid);
    } catch {
      continue;
    }
  }
  if (out.length === 0) throw new JwksError(`JWKS holds no usable signing key for ${algorithms.join(', ')}`);
  return out;
}

/** `max-age` from a Cache-Control header, in seconds. */
function maxAgeOf(cacheControl: string | null): number | undefined {
  const match = cacheControl ? /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * An issuer's published keys, fetched from its JWKS URL and kept fresh: a
 * refresh at the answer's `max-age` (bounded by `refreshSeconds`), and one more
 * when a token names a `kid` not in the set, but never two fetches closer than
 * `minRefetchSeconds` apart and never two at once, so a flood of made-up
 * `kid`s costs at most one fetch per floor. A failed fetch keeps the keys it
 * had. Verification itself never waits on the network.
 */
export class JwksKeySource implements PublicKeySource {
  private readonly logger = new Logger('JwksKeySource');
  private byKid = new Map<string, PublicSigningKey>();
  private lastAttemptMs = Number.NEGATIVE_INFINITY;
  private inflight: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly refreshMs: number;
  private readonly floorMs: number;
  private url: string | undefined;
  private counts = { fetches: 0, failures: 0, skipped: 0 };
  private lastSuccessMs: number | undefined;
  readonly issuers: readonly string[];

  constructor(private readonly options: JwksKeySourceOptions) {
    this.refreshMs = (options.refreshSeconds ?? 300) * 1000;
    this.floorMs = (options.minRefetchSeconds ?? 10) * 1000;
    this.issuers = [options.issuer];
    if (typeof options.url === 'string') this.url = options.url;
  }

  find(kid: string): PublicSigningKey | undefined {
    return this.byKid.get(kid);
  }

  get keyIds(): string[] {
    return [...this.byKid.keys()];
  }

  /** True once a fetch has succeeded. */
  get loaded(): boolean {
    return this.lastSuccessMs !== undefined;
  }

  get stats(): { fetches: number; failures: number; skipped: number; keys: number; lastSuccessAt: string | null } {
    return { ...this.counts, keys: this.byKid.size, lastSuccessAt: this.lastSuccessMs ? new Date(this.lastSuccessMs).toISOString() : null };
  }

  unknownKey(_kid: string): void {
    void this.refresh('unknown_kid');
  }

  /** Fetches the first time; resolves either way (failures are logged and retried on schedule). */
  async start(): Promise<boolean> {
    return this.refresh('start');
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Fetches now unless one is running or the floor has not passed. Resolves true when the keys were replaced. */
  refresh(reason: 'start' | 'schedule' | 'unknown_kid' | 'manual'): Promise<boolean> {
    if (this.inflight) return this.inflight;
    const now = Date.now();
    if (now - this.lastAttemptMs < this.floorMs) {
      this.counts.skipped++;
      return Promise.resolve(false);
    }
    this.lastAttemptMs = now;
    this.inflight = this.fetchOnce(reason).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchOnce(reason: string): Promise<boolean> {
    this.counts.fetches++;
    let nextMs = this.refreshMs;
    try {
      this.url ??= await (this.options.url as () => Promise<string>)();
      const response = await (this.options.fetch ?? fetch)(this.url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      if (!response.ok) throw new JwksError(`JWKS answered HTTP ${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > MAX_BODY_BYTES) throw new JwksError(`JWKS is larger than ${MAX_BODY_BYTES} bytes`);
      const keys = parseJwks(await response.text(), this.options.issuer, this.options.algorithms);
      const previous = this.keyIds;
      this.byKid = new Map(keys.map((k) => [k.kid, k]));
      this.lastSuccessMs = Date.now();
      const maxAge = maxAgeOf(response.headers.get('cache-control'));
      if (maxAge !== undefined) nextMs = Math.min(this.refreshMs, Math.max(this.floorMs, maxAge * 1000));
      const changed = previous.join(' ') !== this.keyIds.join(' ');
      if (changed) this.logger.log({ event: 'jwks_loaded', issuer: this.options.issuer, reason, keyIds: this.keyIds });
      return changed;
    } catch (error) {
      this.counts.failures++;
      // Retry sooner than a full refresh, but no sooner than the floor.
      nextMs = Math.max(this.floorMs, Math.min(this.refreshMs, 5_000));
      this.logger.warn({
        event: 'jwks_fetch_failed',
        issuer: this.options.issuer,
        reason,
        error: error instanceof Error ? error.message : String(error),
        keptKeys: this.byKid.size,
      });
      return false;
    } finally {
      this.schedule(nextMs);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh('schedule'), ms);
    this.timer.unref();
  }
}
