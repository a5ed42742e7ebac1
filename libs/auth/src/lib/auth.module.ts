import { Inject, Logger, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { AUTH_OPTIONS } from './auth.constants';
import { AUTH_MODULE_OPTIONS, AuthConfigurableModule } from './auth.module-definition';
import { resolveAuthOptions, verificationKeyIds, type AuthModuleOptions, type ResolvedAuthOptions } from './auth-options';
import { AuthAuditService } from './audit/auth-audit.service';
import { AuthContextMiddleware } from './context/auth-context.middleware';
import { AuthContextService } from './context/auth-context.service';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { AuthKeysService } from './keys/auth-keys.service';
import { AuthExceptionFilter } from './http/auth-exception.filter';
import { ChallengeScopesService } from './http/challenge-scopes.service';
import { RequestAuthenticatorService } from './http/request-authenticator.service';
import { RequestSignatureVerifierService } from './signing/request-signature-verifier.service';
import { AuthFailureThrottleService } from './throttle/auth-failure-throttle.service';
import { TokenExchangeService } from './tokens/token-exchange.service';
import { TokenIssuerService } from './tokens/token-issuer.service';
import { TokenVerifierService } from './tokens/token-verifier.service';

const logger = new Logger('AuthModule');

/**
 * Token minting and verification, the global deny-by-default guard, request
 * auth context and audit. Configure with `AuthModule.forRoot(options)` or
 * `forRootAsync({ useFactory, inject })`; the module never reads the environment.
 */
@Module({
  imports: [JwtModule.register({})],
  providers: [
    {
      provide: AUTH_OPTIONS,
      inject: [AUTH_MODULE_OPTIONS],
      useFactory: (options: AuthModuleOptions) => {
        const resolved = resolveAuthOptions(options);
        if (resolved.mode === 'disabled') {
          logger.warn({
            event: 'auth_disabled',
            message: 'AUTHENTICATION IS DISABLED: no secret is configured, every call runs with full access. Bind to loopback only.',
          });
        } else {
          logger.log({
            event: 'auth_configured',
            mode: resolved.mode,
            keyIds: verificationKeyIds(resolved),
            allowedIssuers: resolved.allowedIssuers,
            audiences: resolved.audiences,
          });
        }
        return resolved;
      },
    },
    TokenVerifierService,
    TokenIssuerService,
    TokenExchangeService,
    RequestAuthenticatorService,
    AuthContextService,
    AuthAuditService,
    RequestSignatureVerifierService,
    AuthFailureThrottleService,
    AuthKeysService,
    ChallengeScopesService,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_FILTER, useClass: AuthExceptionFilter },
    AuthContextMiddleware,
  ],
  exports: [
    AUTH_OPTIONS,
    TokenVerifierService,
    TokenIssuerService,
    TokenExchangeService,
    RequestAuthenticatorService,
    AuthContextService,
    AuthAuditService,
    RequestSignatureVerifierService,
    AuthFailureThrottleService,
    AuthKeysService,
    ChallengeScopesService,
  ],
})
export class AuthModule extends AuthConfigurableModule implements NestModule {
  constructor(@Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    // Opt-in: an ambient context costs every request (see requestContext).
    if (this.options.requestContext) consumer.apply(AuthContextMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
