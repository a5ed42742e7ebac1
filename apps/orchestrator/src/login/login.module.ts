import { Module } from '@nestjs/common';
import { AuthAuditService } from '@crossauth/auth';
import { AccountsModule } from '../accounts/accounts.module';
import { AccountsService } from '../accounts/accounts.service';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { LOGIN_METHOD, type LoginMethod } from './login-method';
import { OidcLoginMethod } from './oidc-login.method';
import { PasswordLoginMethod } from './password-login.method';

/**
 * The login step of the authorization endpoint: which way people prove who
 * they are, chosen by configuration: an upstream OpenID provider when
 * `ORCHESTRATOR_LOGIN_OIDC_ISSUER` is set, local accounts otherwise.
 */
@Module({
  imports: [AccountsModule],
  providers: [
    PasswordLoginMethod,
    {
      provide: LOGIN_METHOD,
      inject: [orchestratorConfig.KEY, PasswordLoginMethod, AccountsService, AuthAuditService],
      useFactory: (c: OrchestratorConfig, password: PasswordLoginMethod, accounts: AccountsService, audit: AuthAuditService): LoginMethod =>
        c.upstreamLogin ? new OidcLoginMethod(accounts, audit, c) : password,
    },
  ],
  exports: [LOGIN_METHOD],
})
export class LoginModule {}
