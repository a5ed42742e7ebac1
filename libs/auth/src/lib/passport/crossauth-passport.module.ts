import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { JwtStrategy } from './jwt.strategy';

/**
 * Registers {@link JwtStrategy} with Passport, for apps that compose
 * `AuthGuard(CROSSAUTH_JWT_STRATEGY)` with other Passport strategies. Import it
 * beside `AuthModule.forRoot(...)`, whose verifier and options it uses.
 */
@Module({
  imports: [PassportModule],
  providers: [JwtStrategy],
  exports: [PassportModule],
})
export class CrossauthPassportModule {}
