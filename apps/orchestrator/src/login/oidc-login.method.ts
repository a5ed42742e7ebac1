import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuthAuditService, openSealedValue, sealValue, type KeyRing } from '@crossauth/auth';
import type { Request, Response } from 'express';
import type * as OpenId from 'openid-client';
import { AccountsService, USERNAME } from '../accounts/accounts.service';
import { roleForGroups, type OrchestratorConfig, type UpstreamLoginConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { errorPage, sendSignInPage } from '../oauth/sign-in-pages';
import { cookieOf, pageCookie } from '../pages/cookies';
import type { LoginAttempt, LoginMethod, ReturnedLogin } from './login-method';

/** Carries state, nonce, PKCE verifier and the client's request to the provider and back, sealed. */
const LOGIN_COOKIE = 'crossauth_oidc';
const PURPOSE = 'oidc-login';
const LOGIN_SECONDS = 600;
/** Browsers keep cookies up to about 4 KB; a request too large to carry is refused, not truncated. */
const MAX_COOKIE = 3800;

interface Carried {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly params: string;
}

interface Provider {
  readonly client: typeof OpenId;
  readonly config: OpenId.Configuration;
}

/**
 * Sign-in through the organisation's OpenID provider: authorization code with
 * PKCE and a nonce upstream, the ID token checked by openid-client (signature
 * by the provider's JWKS, `iss`, `aud`, `azp`, `nonce`, `exp`) and the
 * response's `iss` (RFC 9207). The person becomes an account here, keyed by
 * (provider, `sub`), with the role their groups map to. Nothing the provider
 * issued is passed on: the orchestrator issues its own tokens.
 */
@Injectable()
export class OidcLoginMethod implements LoginMethod {
  readonly name = 'oidc';
  private readonly logger = new Logger(OidcLoginMethod.name);
  private readonly settings: UpstreamLoginConfig;
  private readonly secure: boolean;
  private provider: Promise<Provider> | undefined;

  constructor(
    private readonly accounts: AccountsService,
    private readonly audit: AuthAuditService,
    @Inject(orchestratorConfig.KEY) config: OrchestratorConfig,
  ) {
    if (!config.upstreamLogin) throw new Error('OidcLoginMethod needs ORCHESTRATOR_LOGIN_OIDC_ISSUER');
    this.settings = config.upstreamLogin;
    this.secure = config.publicUrl.startsWith('https:');
  }

  /** The provider's metadata, fetched once it is first needed and again after a failure. */
  private discovered(): Promise<Provider> {
    this.provider ??= (async () => {
      // openid-client is an ES module; loaded only where upstream login is configured.
      const client = await import('openid-client');
      const s = this.settings;
      const config = await client.discovery(
        new URL(s.issuer),
        s.clientId,
        s.clientSecret,
        s.clientSecret ? client.ClientSecretPost(s.clientSecret) : client.None(),
        { execute: s.allowLoopbackHttp ? [client.allowInsecureRequests] : [], timeout: 10 },
      );
      return { client, config };
    })().catch((error: unknown) => {
      this.provider = undefined;
      throw error;
    });
    return this.provider;
  }

  /** The provider, or undefined once a 503 page has said it cannot be reached. */
  private async reachable(res: Response): Promise<Provider | undefined> {
    try {
      return await this.discovered();
    } catch (error) {
      this.logger.error({ event: 'upstream_login_unavailable', provider: this.settings.issuer, error: errorText(error) });
      sendSignInPage(res, 503, errorPage('The sign-in provider cannot be reached right now; try again in a moment.'));
      return undefined;
    }
  }

  async begin({ res, ring, params, request }: LoginAttempt): Promise<void> {
    const provider = await this.reachable(res);
    if (!provider) return;
    const { client, config } = provider;
    const carried: Carried = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(), params: params.toString() };
    const sealed = sealValue(ring, PURPOSE, JSON.stringify(carried), nowSeconds() + LOGIN_SECONDS);
    if (sealed.length > MAX_COOKIE) return sendSignInPage(res, 400, errorPage('This request is too large to carry through sign-in.'));
    const target = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(carried.verifier),
      code_challenge_method: 'S256',
      state: carried.state,
      nonce: carried.nonce,
      ...(request.prompt === 'login' ? { prompt: 'login' } : {}),
    });
    res.append('Set-Cookie', pageCookie(LOGIN_COOKIE, sealed, LOGIN_SECONDS, this.secure));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(302, target.href);
  }

  async complete(req: Request, res: Response, ring: KeyRing): Promise<ReturnedLogin | undefined> {
    const opened = openSealedValue(ring, PURPOSE, cookieOf(req, LOGIN_COOKIE), nowSeconds());
    res.append('Set-Cookie', pageCookie(LOGIN_COOKIE, '', 0, this.secure));
    const carried = opened ? (JSON.parse(opened) as Carried) : undefined;
    if (!carried) return this.refuse(req, res, 400, 'upstream_login_expired', 'This sign-in has expired or did not start in this browser.');
    const provider = await this.reachable(res);
    if (!provider) return undefined;
    const { client, config } = provider;
    const answer = new URL(this.settings.redirectUri);
    answer.search = new URL(req.originalUrl, 'http://callback.invalid').search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, answer, {
        pkceCodeVerifier: carried.verifier,
        expectedState: carried.state,
        expectedNonce: carried.nonce,
        idTokenExpected: true,
      });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
      // Providers that keep scope claims out of the ID token (OpenID Core §5.4) serve them at userinfo, for this very subject.
      const wanted = [this.settings.rolesClaim, ...(this.settings.subjectClaim === 'email' ? ['email', 'email_verified'] : [])];
      if (wanted.some((c) => !(c in claims)) && config.serverMetadata().userinfo_endpoint)
        claims = { ...(await client.fetchUserInfo(config, tokens.access_token, claims['sub'] as string)), ...claims };
    } catch (error) {
      const said = answer.searchParams.get('error');
      if (said === 'access_denied') return this.refuse(req, res, 403, 'upstream_login_denied', 'You declined at the sign-in provider.');
      return this.refuse(req, res, 401, 'upstream_login_failed', 'The sign-in provider’s answer could not be verified.', errorText(error));
    }
    const subject = claims['sub'] as string;
    const username = this.usernameOf(claims);
    if (!username)
      return this.refuse(
        req,
        res,
        403,
        'upstream_login_unmapped',
        'Your account at the sign-in provider has no verified email address, which this server signs people in by.',
        undefined,
        subject,
      );
    const role = roleForGroups(groupsOf(claims[this.settings.rolesClaim]), this.settings.roleMap);
    if (!role)
      return this.refuse(
        req,
        res,
        403,
        'no_role',
        'Your account at the sign-in provider is in no group that has access here. Ask an administrator to add you.',
        undefined,
        subject,
      );
    const outcome = await this.accounts.signInExternal({ provider: this.settings.issuer, subject, username, role });
    if ('refused' in outcome)
      return this.refuse(
        req,
        res,
        409,
        'upstream_login_conflict',
        `The name ${outcome.username} already belongs to another account here, which is not linked to this sign-in provider. Ask an administrator.`,
        outcome.refused,
        subject,
      );
    return { person: outcome.user, params: new URLSearchParams(carried.params) };
  }

  /** The subject claim the configuration names: `sub` as is when it reads as a username, else a stable digest of it; `email` only when verified. */
  private usernameOf(claims: Record<string, unknown>): string | undefined {
    if (this.settings.subjectClaim === 'email') {
      const email = claims['email'];
      return typeof email === 'string' && claims['email_verified'] === true ? email.toLowerCase() : undefined;
    }
    const sub = String(claims['sub']);
    if (USERNAME.test(sub)) return sub;
    return `oidc-${createHash('sha256').update(`${this.settings.issuer}#${sub}`).digest('hex').slice(0, 32)}`;
  }

  private refuse(req: Request, res: Response, status: number, reason: string, message: string, detail?: string, subject?: string): undefined {
    this.audit.record({
      outcome: 'deny',
      reason,
      issuer: this.settings.issuer,
      ...(subject ? { subject } : {}),
      target: 'GET /oauth/callback',
      transport: 'http',
      client: req.ip,
      ...(detail ? { detail } : {}),
    });
    sendSignInPage(res, status, errorPage(message));
    return undefined;
  }
}

/** Groups as the provider sends them: a list of strings, or one string. */
function groupsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string') : [];
}

/** What went wrong, by openid-client's code and message (neither carries the code, a token or a secret). */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return 'error';
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`.slice(0, 300);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
