/**
 * `@crossauth/auth/passport`: the optional Passport integration. The global
 * guard AuthModule installs needs none of this; import it only to combine
 * crossauth tokens with other Passport strategies.
 */
export { CrossauthPassportModule } from './lib/passport/crossauth-passport.module';
export { CROSSAUTH_JWT_STRATEGY, JwtStrategy } from './lib/passport/jwt.strategy';
