import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthConfigError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import { jwsAlgorithmName, signJwsInput, type Ed25519AlgorithmName, type PrivateSigningKey } from '../keys/asymmetric-key';

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
  /**
   * RFC 9068 `client_id`: the OAuth client the token was issued to. Default:
   * the current actor when there is one (the service acting), else the subject.
   */
  readonly clientId?: string;
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
      // Kept beside the RFC 9068 header: crossauth verifiers before at+jwt read it.
      type: request.type ?? 'access',
      scope: request.scopes.join(' '),
    };
    if (request.role) payload['role'] = request.role;
    const chain = typeof request.actor === 'string' ? [request.actor] : (request.actor ?? []);
    payload['client_id'] = request.clientId ?? chain[0] ?? request.subject;
    if (chain.length)
      payload['act'] = chain.reduceRight<Record<string, unknown> | undefined>((inner, sub) => (inner ? { sub, act: inner } : { sub }), undefined);
    const typ = request.type === 'refresh' ? 'JWT' : ACCESS_TOKEN_TYP;
    const token = signing
      ? signAsymmetric(payload, signing, typ, this.options.ed25519AlgorithmName)
      : this.jwt.sign(payload, {
          privateKey: key?.key as NonNullable<typeof key>['key'],
          algorithm: 'HS256',
          header: { alg: 'HS256', typ, kid: key?.kid },
        });
    return { token, tokenId, issuedAt, expiresAt };
  }
}

/** RFC 9068 §2.1: the media type of a JWT access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

// Per key, by `alg typ`: the encoded header is the same for every token.
const headerSegments = new WeakMap<PrivateSigningKey, Map<string, string>>();

function signAsymmetric(payload: Record<string, unknown>, key: PrivateSigningKey, typ: string, ed25519Name: Ed25519AlgorithmName): string {
  let byTyp = headerSegments.get(key);
  if (!byTyp) headerSegments.set(key, (byTyp = new Map()));
  const alg = jwsAlgorithmName(key.alg, ed25519Name);
  let header = byTyp.get(`${alg} ${typ}`);
  if (!header) {
    header = Buffer.from(JSON.stringify({ alg, typ, kid: key.kid })).toString('base64url');
    byTyp.set(`${alg} ${typ}`, header);
  }
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${signJwsInput(input, key).toString('base64url')}`;
}
