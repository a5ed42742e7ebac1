import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuthAuditService, AuthFailureThrottleService, AuthThrottledError, csrfTokenFor, csrfTokenMatches } from '@crossauth/auth';
import { AccountsService } from '../accounts/accounts.service';
import type { UserRecord } from '../accounts/user.repository';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { AUTHORIZATION_PARAMETERS } from '../oauth/authorization-request';
import { loginPage, sendSignInPage } from '../oauth/sign-in-pages';
import { cookieOf, pageCookie } from '../pages/cookies';
import type { LoginAttempt, LoginMethod, LoginNotice } from './login-method';

/** Binds the login form's CSRF token to this browser before anyone has signed in. */
const LOGIN_COOKIE = 'crossauth_login';
const SIGN_IN_FAILED = 'The username or password is not right.';

/**
 * Sign-in with a local account: the orchestrator's own form, a password
 * checked with a memory-hard KDF, failures throttled per address and per
 * account, and one answer for an unknown user and a wrong password.
 */
@Injectable()
export class PasswordLoginMethod implements LoginMethod {
  readonly name = 'password';
  private readonly secure: boolean;

  constructor(
    private readonly accounts: AccountsService,
    private readonly throttle: AuthFailureThrottleService,
    private readonly audit: AuthAuditService,
    @Inject(orchestratorConfig.KEY) config: OrchestratorConfig,
  ) {
    this.secure = config.publicUrl.startsWith('https:');
  }

  async begin({ res, ring, params, request }: LoginAttempt, notice?: LoginNotice): Promise<void> {
    const nonce = randomBytes(32).toString('base64url');
    res.append('Set-Cookie', pageCookie(LOGIN_COOKIE, nonce, 600, this.secure));
    sendSignInPage(
      res,
      notice?.status ?? 200,
      loginPage(params, AUTHORIZATION_PARAMETERS, request, csrfTokenFor(ring, nonce), notice?.message),
      request.redirectUri,
    );
  }

  async submit(attempt: LoginAttempt): Promise<UserRecord | undefined> {
    const { req, res, ring, params } = attempt;
    if (!csrfTokenMatches(ring, cookieOf(req, LOGIN_COOKIE), params.get('csrf') ?? undefined))
      return void (await this.begin(attempt, { message: 'This form has expired; sign in again.', status: 400 }));
    const username = (params.get('username') ?? '').trim().toLowerCase().slice(0, 64);
    const account = `account:${username}`;
    try {
      this.throttle.assertNotBlocked(req.ip);
      this.throttle.assertNotBlocked(account);
    } catch (error) {
      if (!(error instanceof AuthThrottledError)) throw error;
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
      return void (await this.begin(attempt, { message: `Too many failed sign-ins; try again in ${error.retryAfterSeconds} s.`, status: 429 }));
    }
    const { user } = await this.accounts.signIn(username, params.get('password') ?? '');
    if (!user) {
      await Promise.all([this.throttle.recordFailure(req.ip), this.throttle.recordFailure(account)]);
      this.audit.record({
        outcome: 'deny',
        reason: 'sign_in_failed',
        subject: username || undefined,
        target: 'POST /oauth/authorize',
        transport: 'http',
        client: req.ip,
      });
      return void (await this.begin(attempt, { message: SIGN_IN_FAILED, status: 401 }));
    }
    res.append('Set-Cookie', pageCookie(LOGIN_COOKIE, '', 0, this.secure));
    return user;
  }
}
