import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthConfigError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';

/** What to put in a minted token. */
export interface MintRequest {
  readonly subject: string;
  /** One or more audience ids of the service the token is for. */
  readonly audience: string | readonly string[];
  readonly scopes: readonly string[];
  /** Lifetime; defaults to the module's `accessTokenTtlSeconds`. */
  readonly ttlSeconds?: number;
  readonly type?: 'access' | 'refresh';
  readonly role?: string;
  /**
   * RFC 8693 actor: the service acting on the subject's behalf, or a chain
   * (current actor first, then each earlier one), written as nested `act`.
   */
  readonly actor?: string | readonly string[];
}

/** A minted token and the facts a caller needs to cache it. Never log `token`. */
export interface MintedToken {
  readonly token: string;
  readonly tokenId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * Mints HS256 tokens through `@nestjs/jwt`, always with the current key as a
 * KeyObject (a string secret makes jsonwebtoken try PEM parsing first, ~40x slower)
 * and its `kid` in the header.
 */
@Injectable()
export class TokenIssuerService {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly jwt: JwtService,
  ) {}

  mint(request: MintRequest, nowMs: number = Date.now()): MintedToken {
    const key = this.options.keyRing?.current;
    if (!key) throw new AuthConfigError('cannot mint tokens: auth is disabled and no secret is configured');
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAt = issuedAt + (request.ttlSeconds ?? this.options.accessTokenTtlSeconds);
    const tokenId = randomUUID();
    const payload: Record<string, unknown> = {
      sub: request.subject,
      // Python clients of the predecessor read `user_id`.
      user_id: request.subject,
      iss: this.options.issuer,
      aud: typeof request.audience === 'string' ? request.audience : [...request.audience],
      iat: issuedAt,
      exp: expiresAt,
      jti: tokenId,
      type: request.type ?? 'access',
      scope: request.scopes.join(' '),
    };
    if (request.role) payload['role'] = request.role;
    const chain = typeof request.actor === 'string' ? [request.actor] : (request.actor ?? []);
    if (chain.length) payload['act'] = chain.reduceRight<Record<string, unknown> | undefined>((inner, sub) => (inner ? { sub, act: inner } : { sub }), undefined);
    const token = this.jwt.sign(payload, {
      privateKey: key.key,
      algorithm: 'HS256',
      header: { alg: 'HS256', typ: 'JWT', kid: key.kid },
    });
    return { token, tokenId, issuedAt, expiresAt };
  }
}
