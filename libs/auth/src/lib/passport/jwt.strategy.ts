import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import type { Principal } from '../principal';
import { verifyJwsSignature } from '../tokens/jwt-codec';
import { TokenVerifierService } from '../tokens/token-verifier.service';

/** Name for `AuthGuard(CROSSAUTH_JWT_STRATEGY)`. */
export const CROSSAUTH_JWT_STRATEGY = 'crossauth-jwt';

/**
 * A passport-jwt strategy backed by {@link TokenVerifierService}, for apps that
 * compose passport guards. The verifier decides (so reasons, rotation and
 * revocation match the global guard); passport-jwt then re-checks the signature
 * with the matching KeyObject (never a string secret: that path is ~40x slower).
 * jsonwebtoken 9 knows HS256 and ES256 but not EdDSA, so EdDSA tokens are for
 * the global guard ({@link JwtAuthGuard}) only.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, CROSSAUTH_JWT_STRATEGY) {
  constructor(
    private readonly verifier: TokenVerifierService,
    @Inject(AUTH_OPTIONS) options: ResolvedAuthOptions,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: ['HS256', 'ES256'],
      passReqToCallback: true,
      secretOrKeyProvider: (_req: Request, rawJwt: string, done: (err: unknown, key?: string | Buffer) => void) => {
        if (!options.keyRing && !options.publicKeys) return done(new AuthError('unknown_key', 'auth is disabled'));
        try {
          // jsonwebtoken 9 accepts a KeyObject here; the passport-jwt typings predate that.
          const { key } = verifyJwsSignature(rawJwt, options);
          done(null, ('publicKey' in key ? key.publicKey : key.key) as unknown as Buffer);
        } catch (error) {
          done(error);
        }
      },
    });
  }

  validate(request: Request): Principal {
    const token = ExtractJwt.fromAuthHeaderAsBearerToken()(request);
    if (!token) throw new AuthError('missing');
    return this.verifier.verify(token);
  }
}
