import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthConfigError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import { signJwsInput, type PrivateSigningKey } from '../keys/asymmetric-key';

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
 * Mints tokens. HS256 goes through `@nestjs/jwt`, always with the current key
 * as a KeyObject (a string secret makes jsonwebtoken try PEM parsing first,
 * ~40x slower) and its `kid` in the header. With an asymmetric key set the
 * current private key signs with plain node:crypto: jsonwebtoken 9 has no EdDSA.
 */
@Injectable()
export class TokenIssuerService {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly jwt: JwtService,
  ) {}

  mint(request: MintRequest, nowMs: number = Date.now()): MintedToken {
    const signing = this.options.signingKeys?.current;
    const key = this.options.keyRing?.current;
    if (!signing && !key) throw new AuthConfigError('cannot mint tokens: this service holds no signing key');
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
    const token = signing
      ? signAsymmetric(payload, signing)
      : this.jwt.sign(payload, {
          privateKey: key?.key as NonNullable<typeof key>['key'],
          algorithm: 'HS256',
          header: { alg: 'HS256', typ: 'JWT', kid: key?.kid },
        });
    return { token, tokenId, issuedAt, expiresAt };
  }
}

const headerSegments = new WeakMap<PrivateSigningKey, string>();

function signAsymmetric(payload: Record<string, unknown>, key: PrivateSigningKey): string {
  let header = headerSegments.get(key);
  if (!header) {
    header = Buffer.from(JSON.stringify({ alg: key.alg, typ: 'JWT', kid: key.kid })).toString('base64url');
    headerSegments.set(key, header);
  }
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${signJwsInput(input, key).toString('base64url')}`;
}
