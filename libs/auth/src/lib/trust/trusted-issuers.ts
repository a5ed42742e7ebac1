import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { JwksKeySource } from '../keys/jwks-key-source';
import { parseTrustFile, trustUrlProblem, type TrustedIssuerSettings } from './trust-file';

/** A trusted outside issuer at run time: what the file says, and its keys. */
export interface OutsideIssuer {
  readonly settings: TrustedIssuerSettings;
  readonly keys: JwksKeySource;
}

/** How outside issuers' keys are fetched. */
export interface TrustOptions {
  /** Development only: metadata and JWKS over plain HTTP to a loopback address. */
  readonly allowLoopbackHttp: boolean;
  /** The setting behind {@link allowLoopbackHttp}, named when an http URL is refused. */
  readonly loopbackHttpSetting?: string;
  /** This deployment's own issuer names, which no trust file may claim. */
  readonly ownIssuers?: readonly string[];
  /** Per-fetch timeout; default 5,000 ms. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

const MAX_METADATA_BYTES = 64 * 1024;

/** Where an issuer's metadata is: OpenID discovery appends to the issuer, RFC 8414 §3.1 inserts before its path. */
export function metadataUrlOf(issuer: string, kind: 'oidc' | 'oauth'): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  if (kind === 'oidc') return `${url.origin}${path}/.well-known/openid-configuration`;
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

/**
 * Fetches an issuer's metadata and returns its `jwks_uri`, after checking that
 * the metadata names this very issuer (RFC 8414 §3.3, OpenID Discovery §4.3)
 * and that the JWKS is fetched only where the trust rules allow.
 */
export async function discoverJwksUri(issuer: string, kind: 'oidc' | 'oauth', options: TrustOptions): Promise<string> {
  const response = await (options.fetch ?? fetch)(metadataUrlOf(issuer, kind), {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
  });
  if (!response.ok) throw new Error(`metadata answered HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_METADATA_BYTES) throw new Error(`metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  const doc = JSON.parse(text) as { issuer?: unknown; jwks_uri?: unknown };
  if (doc.issuer !== issuer) throw new Error('metadata names another issuer');
  if (typeof doc.jwks_uri !== 'string') throw new Error('metadata has no jwks_uri');
  const problem = trustUrlProblem(doc.jwks_uri, options.allowLoopbackHttp, options.loopbackHttpSetting);
  if (problem) throw new Error(`metadata jwks_uri ${problem}`);
  return doc.jwks_uri;
}

function sameSettings(a: TrustedIssuerSettings, b: TrustedIssuerSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The outside issuers a resource server trusts, by `iss`. Each has its own
 * key source (so one issuer's keys can never verify a token naming another,
 * and the unknown-`kid` refetch floor holds per issuer). The set is replaced
 * whole when the trust file changes; an issuer whose entry did not change
 * keeps its keys, and listeners learn which issuers changed so cached
 * verifications of theirs are dropped.
 */
export class TrustedIssuers {
  private readonly logger = new Logger('TrustedIssuers');
  private byIssuer = new Map<string, OutsideIssuer>();
  private readonly listeners: ((changed: ReadonlySet<string>) => void)[] = [];
  private detach: (() => void) | undefined;

  constructor(private readonly options: TrustOptions) {}

  /** Reads, checks and installs a trust file; throws {@link TrustFileError} (and keeps the current trust) on a bad one. */
  static async fromFile(path: string, options: TrustOptions): Promise<TrustedIssuers> {
    const trust = new TrustedIssuers(options);
    await trust.load(path);
    return trust;
  }

  get(issuer: string): OutsideIssuer | undefined {
    return this.byIssuer.get(issuer);
  }

  get size(): number {
    return this.byIssuer.size;
  }

  get issuers(): readonly OutsideIssuer[] {
    return [...this.byIssuer.values()];
  }

  onChange(listener: (changed: ReadonlySet<string>) => void): void {
    this.listeners.push(listener);
  }

  async load(path: string): Promise<void> {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    await this.replace(parseTrustFile(text, path, this.options));
  }

  /** Installs `settings`: new and changed issuers fetch their keys first (each bounded by its timeout), then the set is swapped at once. */
  async replace(settings: readonly TrustedIssuerSettings[]): Promise<void> {
    const next = new Map<string, OutsideIssuer>();
    const started: JwksKeySource[] = [];
    for (const s of settings) {
      const current = this.byIssuer.get(s.issuer);
      if (current && sameSettings(current.settings, s)) {
        next.set(s.issuer, current);
        continue;
      }
      const keys = new JwksKeySource({
        issuer: s.issuer,
        url: 'jwksUri' in s.keys ? s.keys.jwksUri : () => discoverJwksUri(s.issuer, (s.keys as { discovery: 'oidc' | 'oauth' }).discovery, this.options),
        algorithms: s.algorithms,
        refreshSeconds: s.refreshSeconds,
        minRefetchSeconds: s.minRefetchSeconds,
        ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      });
      started.push(keys);
      next.set(s.issuer, { settings: s, keys });
    }
    // An issuer that is down still gets trusted: its source keeps retrying, and its tokens are refused until keys arrive.
    await Promise.all(started.map((k) => k.start()));
    const changed = new Set<string>();
    for (const [issuer, old] of this.byIssuer) {
      if (next.get(issuer) !== old) {
        old.keys.stop();
        changed.add(issuer);
      }
    }
    for (const [issuer, entry] of next) if (this.byIssuer.get(issuer) !== entry) changed.add(issuer);
    this.byIssuer = next;
    this.logger.log({ event: 'trust_loaded', issuers: [...next.keys()], changed: [...changed] });
    if (changed.size) for (const listener of this.listeners) listener(changed);
  }

  /** Re-reads the file on `signal`; a bad file is logged with its reason and the running trust stays. */
  reloadOn(path: string, signal: NodeJS.Signals = 'SIGHUP'): void {
    const handler = () => {
      this.load(path).catch((error: unknown) =>
        this.logger.error({ event: 'trust_reload_refused', error: error instanceof Error ? error.message : String(error) }),
      );
    };
    process.on(signal, handler);
    this.detach = () => process.off(signal, handler);
  }

  stop(): void {
    this.detach?.();
    for (const entry of this.byIssuer.values()) entry.keys.stop();
  }
}
