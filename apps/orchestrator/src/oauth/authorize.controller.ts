import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import {
  AUTH_OPTIONS,
  AuthAuditService,
  Public,
  csrfTokenFor,
  csrfTokenMatches,
  scopesForRole,
  signBrowserSession,
  verifyBrowserSession,
  type KeyRing,
  type ResolvedAuthOptions,
} from '@crossauth/auth';
import type { Request, Response } from 'express';
import { AccountsService } from '../accounts/accounts.service';
import type { UserRecord } from '../accounts/user.repository';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { LOGIN_METHOD, type LoginAttempt, type LoginMethod } from '../login/login-method';
import { cookieOf, pageCookie } from '../pages/cookies';
import { readFormBody } from '../pages/form-body';
import { AUTHORIZATION_PARAMETERS, checkAuthorizationRequest, type AuthorizationRequest } from './authorization-request';
import { AuthorizationCodesService } from './authorization-codes.service';
import { GrantsService } from './grants.service';
import { OAuthClientsService } from './oauth-clients.service';
import { consentPage, errorPage, sendSignInPage } from './sign-in-pages';

const SESSION_COOKIE = 'crossauth_session';
/** How long a sign-in on this browser lasts. */
const SESSION_SECONDS = 8 * 3600;
const MAX_FORM = 16 * 1024;

/**
 * The authorization endpoint (RFC 6749 §4.1, as OAuth 2.1 and the MCP
 * authorization rules profile it): a person signs in through the configured
 * login method and approves one client's request; the client gets a code for
 * the token endpoint. Pages are server-rendered and work without JavaScript; every
 * form carries a CSRF token bound to its cookie. Public, because the person
 * has no token yet: the sign-in is the authentication.
 */
@Public()
@Controller('oauth')
export class AuthorizeController {
  private readonly secure: boolean;

  constructor(
    private readonly clients: OAuthClientsService,
    private readonly accounts: AccountsService,
    @Inject(LOGIN_METHOD) private readonly login: LoginMethod,
    private readonly codes: AuthorizationCodesService,
    private readonly grants: GrantsService,
    private readonly audit: AuthAuditService,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {
    this.secure = config.publicUrl.startsWith('https:');
  }

  @Get('authorize')
  async show(@Req() req: Request, @Res() res: Response): Promise<void> {
    const params = new URLSearchParams(req.url.split('?')[1] ?? '');
    const request = await this.checked(params, res);
    if (!request) return;
    const ring = this.ring(res);
    if (!ring) return;
    const signedIn = request.prompt === 'login' ? undefined : await this.signedIn(req, ring);
    const attempt: LoginAttempt = { req, res, ring, params, request };
    if (signedIn) return this.afterSignIn(attempt, signedIn.user, signedIn.session);
    if (request.prompt === 'none') return this.redirect(res, request, { error: 'login_required', error_description: 'the person is not signed in here' });
    await this.login.begin(attempt);
  }

  /** The person this browser is signed in as: a valid session cookie, made after their last "sign out everywhere". */
  private async signedIn(req: Request, ring: KeyRing): Promise<{ readonly user: UserRecord; readonly session: string } | undefined> {
    const cookie = cookieOf(req, SESSION_COOKIE);
    const session = verifyBrowserSession(ring, cookie, nowSeconds());
    const user = session ? await this.accounts.find(session.username) : undefined;
    if (!user || !session || !cookie || (user.signedOutAt !== null && session.issuedAt * 1000 < user.signedOutAt)) return undefined;
    return { user, session: cookie };
  }

  /** Signed in: a consent remembered for at least these scopes gives the code at once; otherwise the person is asked. */
  private async afterSignIn(attempt: LoginAttempt, user: UserRecord, session: string): Promise<void> {
    const { req, res, ring, params, request } = attempt;
    const scopes = grantable(request, user.role);
    if (request.prompt !== 'consent' && scopes.length > 0 && (await this.grants.consented(user.username, request.client.id, request.resource, scopes)))
      return this.issueCode(req, res, request, user.username, scopes, 'consent remembered');
    if (request.prompt === 'none') return this.redirect(res, request, { error: 'consent_required', error_description: 'the person has not approved this yet' });
    this.page(res, 200, consentPage(params, AUTHORIZATION_PARAMETERS, request, user.username, scopes, csrfTokenFor(ring, session)), request.redirectUri);
  }

  private async issueCode(req: Request, res: Response, request: AuthorizationRequest, username: string, scopes: readonly string[], how: string): Promise<void> {
    const code = await this.codes.issue({
      clientId: request.client.id,
      username,
      redirectUri: request.redirectUri,
      resource: request.resource,
      scopes,
      codeChallenge: request.codeChallenge,
    });
    this.audit.record({
      outcome: 'allow',
      reason: 'authorization_code',
      subject: username,
      scopes,
      target: `authorize ${request.client.id} for ${request.resource}`,
      transport: 'http',
      client: req.ip,
      detail: how,
    });
    this.redirect(res, request, { code });
  }

  @Post('authorize')
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    const params = await readFormBody(req, MAX_FORM);
    if (!params) return this.page(res, 400, errorPage('The form could not be read.'));
    const request = await this.checked(params, res);
    if (!request) return;
    const ring = this.ring(res);
    if (!ring) return;
    const step = params.get('step');
    const attempt: LoginAttempt = { req, res, ring, params, request };
    if (step === 'login' && this.login.submit) {
      const user = await this.login.submit(attempt);
      return user ? this.startSession(attempt, user) : undefined;
    }
    if (step !== 'consent') return this.page(res, 400, errorPage('The form was not one of ours.'));
    const signedIn = await this.signedIn(req, ring);
    if (!signedIn) return this.login.begin(attempt, { message: 'Your sign-in has ended; sign in again.', status: 400 });
    const { user } = signedIn;
    if (!csrfTokenMatches(ring, signedIn.session, params.get('csrf') ?? undefined)) {
      this.audit.record({
        outcome: 'deny',
        reason: 'csrf_mismatch',
        subject: user.username,
        target: 'POST /oauth/authorize',
        transport: 'http',
        client: req.ip,
      });
      return this.page(res, 403, errorPage('This form has expired or did not come from this page. Start again from the application.'));
    }
    if (params.get('decision') !== 'approve')
      return this.redirect(res, request, { error: 'access_denied', error_description: 'the person denied the request' });
    const scopes = grantable(request, user.role);
    if (scopes.length === 0)
      return this.redirect(res, request, { error: 'invalid_scope', error_description: `the role ${user.role} allows none of the requested scopes` });
    await this.grants.rememberConsent(user.username, request.client.id, request.resource, scopes);
    await this.issueCode(req, res, request, user.username, scopes, 'approved');
  }

  /**
   * The upstream provider's answer (OpenID sign-in): the login method checks
   * it and names the person; the client's request they set out with is
   * checked again, as it was carried by the browser.
   */
  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.login.complete) return this.page(res, 404, errorPage('This server signs people in with its own form; there is no provider to come back from.'));
    const ring = this.ring(res);
    if (!ring) return;
    const returned = await this.login.complete(req, res, ring);
    if (!returned) return;
    const request = await this.checked(returned.params, res);
    if (!request) return;
    await this.startSession({ req, res, ring, params: returned.params, request }, returned.person);
  }

  /** The checked request, or the refusal already answered (our page, or a redirect back with the error). */
  private async checked(params: URLSearchParams, res: Response): Promise<AuthorizationRequest | undefined> {
    const checked = await checkAuthorizationRequest(params, (id) => this.clients.forSignIn(id));
    if ('ok' in checked) return checked.ok;
    if ('page' in checked) return void this.page(res, 400, errorPage(checked.page));
    const { uri, state, error, description } = checked.redirect;
    this.redirectTo(res, uri, { error, error_description: description, ...(state !== undefined ? { state } : {}) });
    return undefined;
  }

  /** A person the login method vouched for: a session cookie for this browser, then consent. */
  private async startSession(attempt: LoginAttempt, user: UserRecord): Promise<void> {
    const { req, res, ring } = attempt;
    const now = nowSeconds();
    const session = signBrowserSession(ring, { username: user.username, issuedAt: now, expiresAt: now + SESSION_SECONDS });
    res.append('Set-Cookie', pageCookie(SESSION_COOKIE, session, SESSION_SECONDS, this.secure));
    this.audit.record({
      outcome: 'allow',
      reason: 'sign_in',
      subject: user.username,
      target: `${req.method} ${req.path}`,
      transport: 'http',
      client: req.ip,
      detail: this.login.name,
    });
    await this.afterSignIn(attempt, user, session);
  }

  /** The authorization response (RFC 6749 §4.1.2, RFC 9207 `iss`), sent back to the checked redirect URI. */
  private redirect(res: Response, request: AuthorizationRequest, fields: Record<string, string>): void {
    this.redirectTo(res, request.redirectUri, { ...fields, ...(request.state !== undefined ? { state: request.state } : {}) });
  }

  private redirectTo(res: Response, uri: string, fields: Record<string, string>): void {
    const target = new URL(uri);
    for (const [name, value] of Object.entries({ ...fields, iss: this.config.auth.issuer })) target.searchParams.set(name, value);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(302, target.toString());
  }

  /** Sign-in needs the service secret, which every cookie and CSRF token is derived from. */
  private ring(res: Response): KeyRing | undefined {
    if (this.auth.keyRing) return this.auth.keyRing;
    this.page(res, 503, errorPage('Sign-in is not available: this server has no secret configured.'));
    return undefined;
  }

  private page(res: Response, status: number, html: string, redirectUri?: string): void {
    sendSignInPage(res, status, html, redirectUri);
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** What the consent page shows and the code carries: the scopes asked that the person's role allows. */
function grantable(request: AuthorizationRequest, role: string): string[] {
  const allowed = scopesForRole(role);
  return request.scopes.filter((s) => allowed.includes(s));
}
