import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS } from '../auth.constants';
import type { ResolvedAuthOptions } from '../auth-options';
import type { Principal } from '../principal';
import { canonicalIssuer } from '../tokens/legacy-issuer';
import { verifyRequest, type VerifyRequestOptions } from './http-message-signature';
import { SignatureError } from './signature.errors';

/** The parts of an HTTP request that a signature covers. */
export interface SignedRequestParts {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * Enforces RFC 9421 request signatures for the callers configured to need
 * them (all, or listed issuers). A thin Nest wrapper: the crypto is in
 * `http-message-signature.ts`.
 */
@Injectable()
export class RequestSignatureVerifierService {
  // Built once: the key ring is read at call time, so a reload (AuthKeysService) is seen at once.
  private readonly verifyOptions: VerifyRequestOptions;
  /** The rule's issuers with legacy names resolved; the rule is fixed at start-up. */
  private readonly signedIssuers: ReadonlySet<string>;

  constructor(@Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions) {
    this.verifyOptions = {
      keyFor: (kid) => this.options.keyRing?.find(kid)?.requestSigningKey,
      nonces: options.nonceStore,
      maxAgeSeconds: options.signatureMaxAgeSeconds,
    };
    const rule = options.requireSignedRequests;
    this.signedIssuers = new Set(Array.isArray(rule) ? rule.map((name) => canonicalIssuer(name, options.legacyIssuers)) : []);
  }

  /** Whether this principal's requests must be signed. */
  requiredFor(principal: Principal): boolean {
    const rule = this.options.requireSignedRequests;
    if (rule === 'off') return false;
    if (rule === 'all') return true;
    // A legacy issuer name is the same caller, in the rule or in the token: the requirement follows it.
    return this.signedIssuers.has(canonicalIssuer(principal.issuer, this.options.legacyIssuers));
  }

  /**
   * Throws (or, with a shared nonce store, rejects with) {@link SignatureError}
   * when a required signature is missing or wrong. Returns a promise only when
   * the replay check has to wait for the shared store.
   */
  verifyIfRequired(request: SignedRequestParts, body: Uint8Array, principal: Principal): void | Promise<unknown> {
    if (!this.requiredFor(principal)) return;
    if (!this.options.keyRing) throw new SignatureError('unknown_key', 'no key configured');
    const host = request.headers['host'];
    if (typeof host !== 'string') throw new SignatureError('signature_invalid', 'request has no single Host header');
    const query = request.url.indexOf('?');
    const path = query < 0 ? request.url : request.url.slice(0, query);
    const verified = verifyRequest({ method: request.method, authority: host, path, body, headers: request.headers }, this.verifyOptions);
    return verified instanceof Promise ? verified : undefined;
  }
}
