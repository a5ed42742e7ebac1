import { Controller, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import {
  ACCESS_TOKEN_TYPE,
  AUTH_OPTIONS,
  AuthAuditService,
  AuthError,
  AuthFailureThrottleService,
  AuthThrottledError,
  ExchangeRefusedError,
  JWT_BEARER_CLIENT_ASSERTION,
  JWT_TOKEN_TYPE,
  Public,
  TOKEN_EXCHANGE_GRANT,
  TokenExchangeService,
  TokenIssuerService,
  TokenVerifierService,
  shown,
  type ResolvedAuthOptions,
  type TokenGrant,
} from '@crossauth/auth';
import { BodyTooLargeError, readBody } from '@crossauth/mcp-server';
import type { Request, Response } from 'express';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { GrantRevocationService } from './grant-revocation.service';
import type { OAuthClientRecord } from './oauth-client.repository';
import { AuthorizationCodesService } from './authorization-codes.service';
import { GrantsService, type PersonTokens } from './grants.service';
import { OAuthClientsService } from './oauth-clients.service';

const MAX_BODY = 16 * 1024;
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE_GRANT] as const;

/** A client and how it proved itself (RFC 8414 names these methods). */
interface AuthenticatedClient {
  readonly client: OAuthClientRecord;
  readonly method: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}
/** RFC 6749 §5.2 error codes (RFC 8707 adds invalid_target). */
type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'temporarily_unavailable';

class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    /** Set for invalid_client after Basic authentication: the 401 challenge to send. */
    readonly challenge?: string,
  ) {
    super(description);
  }
}

/**
 * The orchestrator's OAuth 2.1 token endpoint. `client_credentials` (the MCP
 * client-credentials extension, SEP-1046) and the RFC 8693 token exchange
 * (on-behalf-of: see {@link TokenExchangeService}). A registered client proves
 * itself with its secret (`client_secret_basic`, `client_secret_post`) or a
 * JWT signed with its registered key (`private_key_jwt`, RFC 7523) and
 * gets a short-lived token for one registered resource (RFC 8707), with the
 * scopes it asked for that it may have. Public (the client authenticates
 * itself here), throttled on failures like every other auth failure.
 */
@Public()
@Controller('oauth')
export class TokenController {
  private readonly logger = new Logger(TokenController.name);
  private readonly tokenEndpoint: string;

  constructor(
    private readonly clients: OAuthClientsService,
    private readonly issuer: TokenIssuerService,
    private readonly throttle: AuthFailureThrottleService,
    private readonly audit: AuthAuditService,
    private readonly revocations: GrantRevocationService,
    private readonly exchanges: TokenExchangeService,
    private readonly codes: AuthorizationCodesService,
    private readonly grants: GrantsService,
    private readonly verifier: TokenVerifierService,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {
    this.tokenEndpoint = `${config.publicUrl}/oauth/token`;
  }

  @Post('token')
  async token(@Req() req: Request, @Res() res: Response): Promise<void> {
    // Tokens and errors alike must never be cached (RFC 6749 §5.1).
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    if (this.throttled(req, res)) return;
    let clientId: string | undefined;
    try {
      const form = await this.readForm(req);
      const grant = single(form, 'grant_type');
      if (!grant) throw new OAuthError('invalid_request', 'grant_type is required');
      if (!(GRANT_TYPES as readonly string[]).includes(grant)) throw new OAuthError('unsupported_grant_type', `supported: ${GRANT_TYPES.join(', ')}`);
      const { client, method } = await this.authenticate(req, form);
      clientId = client.id;
      if (grant === 'authorization_code') return await this.redeemCode(req, res, client, form);
      if (grant === 'refresh_token') return await this.refresh(req, res, client, form);
      // Machine grants: a client that holds no credential cannot prove it is the machine.
      if (method === 'none') throw new OAuthError('unauthorized_client', `a public client may use authorization_code and refresh_token only, not ${grant}`);
      const resource = this.resourceFor(client, form);
      if (grant === TOKEN_EXCHANGE_GRANT) return void this.exchange(req, res, client, resource, form);

      const asked = single(form, 'scope');
      const requested = asked === undefined ? [...client.allowedScopes] : asked.split(' ').filter(Boolean);
      const granted = requested.filter((s) => client.allowedScopes.includes(s));
      if (granted.length === 0)
        throw new OAuthError(
          'invalid_scope',
          asked === undefined ? 'this client may have no scope' : 'none of the requested scopes is allowed for this client',
        );

      const minted = this.issuer.mint({ subject: client.id, audience: resource, scopes: granted, ttlSeconds: this.config.oauth.tokenTtlSeconds });
      this.audit.record({
        outcome: 'allow',
        reason: 'client_credentials',
        subject: client.id,
        scopes: granted,
        target: `POST /oauth/token for ${resource}`,
        transport: 'http',
        client: req.ip,
      });
      res.status(200).json({ access_token: minted.token, token_type: 'Bearer', expires_in: minted.expiresAt - minted.issuedAt, scope: granted.join(' ') });
    } catch (thrown) {
      await this.refuse(thrown, req, res, clientId, 'POST /oauth/token');
    }
  }

  /** RFC 8707: one resource, registered for this client; the only one when it has one and none is named. */
  private resourceFor(client: OAuthClientRecord, form: URLSearchParams): string {
    const resources = form.getAll('resource');
    if (resources.length > 1) throw new OAuthError('invalid_target', 'one resource per token: its audience');
    const resource = resources[0] ?? (client.allowedResources.length === 1 ? client.allowedResources[0] : undefined);
    if (!resource) throw new OAuthError('invalid_target', 'resource is required: this client may get tokens for more than one');
    if (!client.allowedResources.includes(resource)) {
      // Resources compare byte for byte (localhost is not 127.0.0.1): show both sides so the integrator sees which differed.
      throw new OAuthError(
        'invalid_target',
        `resource ${shown(resource, 200)} is not registered for client '${client.id}' (registered: ${client.allowedResources.map((r) => `'${r}'`).join(', ')})`,
      );
    }
    return resource;
  }

  /**
   * RFC 8693 token exchange. The client is the actor: it presents a token it
   * received as a resource (its audience must name the client) and gets one
   * for `resource` with the same subject, itself added to `act`, scopes
   * narrowed to what the subject holds and the client may have. An invalid
   * subject token is `invalid_request` (§2.2.2); `actor_token` is refused,
   * since the client authentication already says who acts.
   */
  private exchange(req: Request, res: Response, client: OAuthClientRecord, resource: string, form: URLSearchParams): void {
    const subjectToken = single(form, 'subject_token');
    if (!subjectToken) throw new OAuthError('invalid_request', 'subject_token is required');
    const subjectType = single(form, 'subject_token_type');
    if (subjectType !== ACCESS_TOKEN_TYPE && subjectType !== JWT_TOKEN_TYPE)
      throw new OAuthError('invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    const requestedType = single(form, 'requested_token_type');
    if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) throw new OAuthError('invalid_request', `only ${ACCESS_TOKEN_TYPE} is issued`);
    if (form.has('actor_token') || form.has('actor_token_type'))
      throw new OAuthError('invalid_request', 'actor_token is not accepted: the authenticated client is the actor');
    const subject = this.verifier.activeFor(subjectToken, [client.id], this.auth.issuer);
    if (!subject) throw new OAuthError('invalid_request', 'subject_token is not a valid, unrevoked token of ours issued to this client');
    if (subject.subject === client.id && !subject.actors) throw new OAuthError('invalid_request', 'a client cannot act for itself; use client_credentials');
    const asked = single(form, 'scope');
    const requested = asked === undefined ? subject.scopes : asked.split(' ').filter(Boolean);
    if (requested.length === 0) throw new OAuthError('invalid_scope', asked === undefined ? 'the subject token holds no scope' : 'scope is empty');
    try {
      const minted = this.exchanges.exchange({
        subject,
        actor: client.id,
        audience: resource,
        scopes: requested,
        allowedScopes: client.allowedScopes,
        ttlSeconds: this.config.oauth.tokenTtlSeconds,
      });
      this.audit.record({
        outcome: 'allow',
        reason: 'token_exchange',
        subject: subject.subject,
        actor: client.id,
        scopes: minted.scopes,
        target: `POST /oauth/token for ${resource}`,
        transport: 'http',
        client: req.ip,
      });
      res.status(200).json({
        access_token: minted.token,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: minted.expiresAt - minted.issuedAt,
        scope: minted.scopes.join(' '),
      });
    } catch (error) {
      if (error instanceof ExchangeRefusedError) throw new OAuthError(error.code, error.message);
      throw error;
    }
  }

  /**
   * RFC 7009 token revocation, for the client the token was granted to. The
   * token stops working here at once, and at session-buddy as soon as the
   * revocation outbox delivers it (see GrantRevocationService).
   * Per §2.2 an unknown, foreign or malformed token is answered 200 all the
   * same: the caller learns nothing about tokens that are not its own.
   */
  @Post('revoke')
  revoke(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.tokenRequest(req, res, 'POST /oauth/revoke', true, async (client, token, form) => {
      const hint = single(form, 'token_type_hint');
      if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token')
        throw new OAuthError('invalid_request', 'token_type_hint is access_token or refresh_token');
      // The hint is only a hint (§2.1): a JWT is an access token, anything else may be a refresh token.
      if (!token.includes('.')) {
        const ended = await this.grants.revokeRefreshToken(token, client.id);
        if (ended)
          this.audit.record({
            outcome: 'allow',
            reason: 'grant_revoked',
            subject: ended.username,
            actor: client.id,
            target: `POST /oauth/revoke at ${ended.resource}`,
            transport: 'http',
            client: req.ip,
          });
        return void res.status(200).end();
      }
      const grant = this.grantOf(token);
      if ((grant?.clientId ?? grant?.subject) === client.id && grant?.tokenId && grant.audience) {
        const expiresAt = grant.expiresAt ?? Math.floor(Date.now() / 1000) + this.auth.maxTokenLifetimeSeconds;
        const delivery = await this.revocations.revokeToken(grant.tokenId, expiresAt, grant.audience, client.id);
        this.audit.record({
          outcome: 'allow',
          reason: 'token_revoked',
          subject: client.id,
          target: `POST /oauth/revoke at ${grant.audience}`,
          transport: 'http',
          client: req.ip,
          detail: delivery,
        });
      }
      res.status(200).end();
    });
  }

  /** Answers 429 with Retry-After while this address is blocked for failed client authentications. */
  private throttled(req: Request, res: Response): boolean {
    try {
      this.throttle.assertNotBlocked(req.ip);
      return false;
    } catch (error) {
      if (!(error instanceof AuthThrottledError)) throw error;
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
      res.status(429).json({ error: 'slow_down', error_description: 'too many failed client authentications; retry later' });
      return true;
    }
  }

  /** Audits and answers an OAuth error (RFC 6749 §5.2); a failed client authentication counts towards the throttle. */
  private async refuse(thrown: unknown, req: Request, res: Response, clientId: string | undefined, target: string): Promise<void> {
    const error = thrown instanceof BodyTooLargeError ? new OAuthError('invalid_request', `body exceeds ${MAX_BODY} bytes`) : thrown;
    if (!(error instanceof OAuthError)) throw error;
    this.audit.record({ outcome: 'deny', reason: error.code, subject: clientId, target, transport: 'http', client: req.ip, detail: error.description });
    const body = { error: error.code, error_description: error.description };
    if (error.code === 'temporarily_unavailable') {
      res.setHeader('Retry-After', '5');
      return void res.status(503).json(body);
    }
    if (error.code === 'invalid_client') {
      await this.throttle.recordFailure(req.ip);
      if (error.challenge) res.setHeader('WWW-Authenticate', error.challenge);
      return void res.status(401).json(body);
    }
    res.status(400).json(body);
  }

  /**
   * RFC 7662 token introspection, for resource servers registered as clients:
   * a client may introspect tokens whose audience is one of its registered
   * resources; for any other token, and for a token that is not ours, expired,
   * or revoked here, the answer is `{"active": false}` and nothing more.
   */
  @Post('introspect')
  introspect(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.tokenRequest(req, res, 'POST /oauth/introspect', false, async (client, token) => {
      const principal = this.verifier.activeFor(token, client.allowedResources, this.auth.issuer);
      this.audit.record({
        outcome: 'allow',
        reason: 'introspection',
        subject: client.id,
        target: 'POST /oauth/introspect',
        transport: 'http',
        client: req.ip,
        detail: principal ? 'active' : 'inactive',
      });
      if (!principal) return void res.status(200).json({ active: false });
      res.status(200).json({
        active: true,
        token_type: 'Bearer',
        sub: principal.subject,
        client_id: principal.clientId ?? principal.actor ?? principal.subject,
        scope: principal.scopes.join(' '),
        aud: principal.audience,
        iss: principal.issuer,
        exp: principal.expiresAt,
        ...(principal.issuedAt !== undefined ? { iat: principal.issuedAt } : {}),
        ...(principal.tokenId ? { jti: principal.tokenId } : {}),
        ...(principal.actors
          ? { act: principal.actors.reduceRight<Record<string, unknown> | undefined>((inner, sub) => (inner ? { sub, act: inner } : { sub }), undefined) }
          : {}),
      });
    });
  }

  /** A client-authenticated request about one token (revocation, introspection): no-store, throttled, errors per §5.2; public clients only where allowed. */
  private async tokenRequest(
    req: Request,
    res: Response,
    target: string,
    publicClients: boolean,
    handle: (client: OAuthClientRecord, token: string, form: URLSearchParams) => Promise<void>,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (this.throttled(req, res)) return;
    let clientId: string | undefined;
    try {
      const form = await this.readForm(req);
      const { client, method } = await this.authenticate(req, form);
      clientId = client.id;
      if (method === 'none' && !publicClients) throw new OAuthError('unauthorized_client', `a public client may not use ${target}`);
      const token = single(form, 'token');
      if (!token) throw new OAuthError('invalid_request', 'token is required');
      await handle(client, token, form);
    } catch (thrown) {
      await this.refuse(thrown, req, res, clientId, target);
    }
  }

  /** Who a token of ours was granted to; undefined when the signature is not ours. */
  private grantOf(token: string): TokenGrant | undefined {
    try {
      return this.verifier.grantOf(token);
    } catch (error) {
      if (error instanceof AuthError) return undefined;
      throw error;
    }
  }

  /** RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5) and RFC 8707: the code's person gets a token for the code's resource. */
  private async redeemCode(req: Request, res: Response, client: OAuthClientRecord, form: URLSearchParams): Promise<void> {
    const code = single(form, 'code');
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    const resources = form.getAll('resource');
    if (resources.length > 1) throw new OAuthError('invalid_target', 'one resource per token: its audience');
    const redemption = {
      code,
      clientId: client.id,
      redirectUri: single(form, 'redirect_uri'),
      resource: resources[0],
      codeVerifier: single(form, 'code_verifier'),
    };
    const outcome = await this.codes.redeem(redemption);
    // Spent by a concurrent redemption between the check and the grant: checked again, it is a replay.
    const tokens = 'grant' in outcome ? await this.grants.issueForCode(outcome.grant) : undefined;
    const refusal = 'refused' in outcome ? outcome : tokens === 'spent' ? await this.codes.redeem(redemption) : undefined;
    if (refusal && 'refused' in refusal) {
      if (refusal.revoke?.grantId) await this.grants.revokeFromCode(refusal.revoke.grantId);
      throw new OAuthError('invalid_grant', refusal.refused);
    }
    if (!tokens || tokens === 'spent') throw new OAuthError('invalid_grant', 'the authorization code was already used');
    await this.clients.used(client);
    this.answerPerson(req, res, 'authorization_code', tokens);
  }

  /** RFC 6749 §6, rotating (OAuth 2.1 §4.3.1): the refresh token is spent, its replacement comes with the access token. */
  private async refresh(req: Request, res: Response, client: OAuthClientRecord, form: URLSearchParams): Promise<void> {
    const presented = single(form, 'refresh_token');
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
    const asked = single(form, 'scope');
    const resources = form.getAll('resource');
    const outcome = await this.grants.refresh(presented, client, asked === undefined ? undefined : asked.split(' ').filter(Boolean));
    if ('refused' in outcome) throw new OAuthError(outcome.error, outcome.refused);
    // RFC 8707 §2.2: a refresh may name the resource, which must be the grant's.
    if (resources.length > 1 || (resources[0] !== undefined && resources[0] !== outcome.grant.resource))
      throw new OAuthError('invalid_target', `this grant is for ${outcome.grant.resource} only`);
    await this.clients.used(client);
    this.answerPerson(req, res, 'refresh_token', outcome);
  }

  private answerPerson(req: Request, res: Response, reason: 'authorization_code' | 'refresh_token', tokens: PersonTokens): void {
    const { access, grant, scopes } = tokens;
    this.audit.record({
      outcome: 'allow',
      reason,
      subject: grant.username,
      actor: grant.clientId,
      scopes,
      target: `POST /oauth/token for ${grant.resource}`,
      transport: 'http',
      client: req.ip,
    });
    res.status(200).json({
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresAt - access.issuedAt,
      scope: scopes.join(' '),
      refresh_token: tokens.refreshToken,
    });
  }

  private async readForm(req: Request): Promise<URLSearchParams> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
    const form = new URLSearchParams((await readBody(req, MAX_BODY)).toString('utf8'));
    // RFC 6749 §3.2: no parameter more than once (resource, RFC 8707, may repeat; refused above if it does).
    const seen = new Set<string>();
    for (const name of form.keys()) {
      if (seen.has(name) && name !== 'resource') throw new OAuthError('invalid_request', `${name} appears more than once`);
      seen.add(name);
    }
    return form;
  }

  /**
   * Client authentication (RFC 6749 §2.3), exactly one method: a signed
   * assertion (`private_key_jwt`), HTTP Basic, a secret in the body, or, for
   * a public client only, none (its `client_id` alone). Each grant decides
   * which methods it accepts.
   */
  private async authenticate(req: Request, form: URLSearchParams): Promise<AuthenticatedClient> {
    const header = req.headers.authorization;
    const postedId = single(form, 'client_id');
    const postedSecret = single(form, 'client_secret');
    if (header === undefined && postedSecret === undefined && !form.has('client_assertion') && !form.has('client_assertion_type')) {
      if (!postedId)
        throw new OAuthError(
          'invalid_client',
          'client authentication is required (client_secret_basic, client_secret_post, private_key_jwt; none for a public client with client_id)',
        );
      const client = await this.clients.findPublic(postedId);
      // An unknown id and a confidential client that sent no credential read the same.
      if (!client) throw new OAuthError('invalid_client', 'client authentication failed');
      return { client, method: 'none' };
    }
    if (form.has('client_assertion') || form.has('client_assertion_type')) {
      if (header !== undefined || postedSecret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not two');
      if (single(form, 'client_assertion_type') !== JWT_BEARER_CLIENT_ASSERTION)
        throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_CLIENT_ASSERTION}`);
      const outcome = await this.clients.authenticateAssertion(single(form, 'client_assertion') ?? '', postedId, [this.tokenEndpoint, this.config.publicUrl]);
      if ('client' in outcome) return { client: outcome.client, method: 'private_key_jwt' };
      if (outcome.retryLater) throw new OAuthError('temporarily_unavailable', outcome.refused);
      throw new OAuthError('invalid_client', outcome.refused);
    }
    let id: string | undefined;
    let secret: string | undefined;
    let basic = false;
    if (header !== undefined) {
      if (postedSecret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not two');
      const match = /^basic[ ]+([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
      const decoded = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthError('invalid_client', 'Authorization is not HTTP Basic with client_id:client_secret', 'Basic realm="crossauth"');
      // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
      try {
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        throw new OAuthError('invalid_client', 'client credentials are not form-urlencoded', 'Basic realm="crossauth"');
      }
      if (postedId !== undefined && postedId !== id) throw new OAuthError('invalid_request', 'client_id differs from the Basic credentials');
      basic = true;
    } else {
      id = postedId;
      secret = postedSecret;
    }
    if (!id || !secret)
      throw new OAuthError(
        'invalid_client',
        'client authentication is required (client_secret_basic or client_secret_post)',
        basic ? 'Basic realm="crossauth"' : undefined,
      );
    const client = await this.clients.authenticate(id, secret);
    // Unknown client and wrong secret read the same, so ids cannot be probed.
    if (!client) throw new OAuthError('invalid_client', 'client authentication failed', basic ? 'Basic realm="crossauth"' : undefined);
    return { client, method: basic ? 'client_secret_basic' : 'client_secret_post' };
  }
}

function single(form: URLSearchParams, name: string): string | undefined {
  return form.get(name) ?? undefined;
}
