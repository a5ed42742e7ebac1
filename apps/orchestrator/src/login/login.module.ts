import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { LOGIN_METHOD } from './login-method';
import { PasswordLoginMethod } from './password-login.method';

/** The login step of the authorization endpoint: which way people prove who they are, chosen by configuration. */
@Module({
  imports: [AccountsModule],
  providers: [PasswordLoginMethod, { provide: LOGIN_METHOD, useExisting: PasswordLoginMethod }],
  exports: [LOGIN_METHOD],
})
export class LoginModule {}
