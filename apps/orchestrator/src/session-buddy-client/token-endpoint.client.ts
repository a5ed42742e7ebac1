import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ACCESS_TOKEN_TYPE,
  JWT_BEARER_CLIENT_ASSERTION,
  TOKEN_EXCHANGE_GRANT,
  TokenIssuerService,
  createClientAssertion,
  privateSigningKeyFromText,
  type PrivateSigningKey,
} from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';

/** How long the subject token we hand the authorization server lives: only for the exchange itself. */
const SUBJECT_TOKEN_SECONDS = 60;

/** A token from the authorization server and when it expires (ms). */
export interface ExchangedToken {
  readonly token: string;
  readonly expiresAtMs: number;
}

/**
 * Downstream tokens from an authorization server over HTTP, for when the
 * orchestrator is configured as a registered client
 * (`ORCHESTRATOR_SESSION_BUDDY_CLIENT_ID`): discovery as any MCP client does it
 * (session-buddy's RFC 9728 metadata, then the server's RFC 8414 metadata,
 * whose issuer must be the configured one, so credentials go nowhere else),
 * then an RFC 8693 exchange authenticated with the client secret or a
 * `private_key_jwt` assertion. The subject token is a 60-second token for the
 * caller, addressed to this client: the caller's own token never leaves.
 */
@Injectable()
export class TokenEndpointClient {
  private readonly logger = new Logger(TokenEndpointClient.name);
  private endpoint: Promise<string> | undefined;
  private readonly key: PrivateSigningKey | undefined;

  constructor(
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
    private readonly issuer: TokenIssuerService,
  ) {
    const client = config.sessionBuddy.client;
    this.key = client?.keyFile ? privateSigningKeyFromText(readFileSync(client.keyFile, 'utf8')) : undefined;
  }

  get configured(): boolean {
    return this.config.sessionBuddy.client !== undefined;
  }

  /** A token for session-buddy acting for `subject`, with exactly `scopes`. Throws a ToolError that says what failed. */
  async exchange(subject: string, scopes: readonly string[], onBehalfOf: readonly string[], nowMs = Date.now()): Promise<ExchangedToken> {
    const client = this.config.sessionBuddy.client;
    if (!client) throw new Error('no client is configured');
    const tokenEndpoint = await this.discover();
    const subjectToken = this.issuer.mint(
      { subject, audience: client.id, scopes, ttlSeconds: SUBJECT_TOKEN_SECONDS, ...(onBehalfOf.length ? { actor: onBehalfOf } : {}) },
      nowMs,
    ).token;
    const form = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: this.config.sessionBuddy.url,
      scope: scopes.join(' '),
    });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.key) {
      form.set('client_id', client.id);
      form.set('client_assertion_type', JWT_BEARER_CLIENT_ASSERTION);
      form.set('client_assertion', createClientAssertion(client.id, client.authorizationServer, this.key));
    } else {
      headers['authorization'] = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret ?? '')}`).toString('base64')}`;
    }
    let response: Response;
    try {
      response = await fetch(tokenEndpoint, { method: 'POST', headers, body: form, redirect: 'error', signal: AbortSignal.timeout(5000) });
    } catch (error) {
      this.endpoint = undefined;
      throw new ToolError(
        `the authorization server at ${client.authorizationServer} could not be reached (${error instanceof Error ? error.message : String(error)})`,
        'downstream_unavailable',
      );
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    if (!response.ok || typeof body.access_token !== 'string') {
      this.logger.warn({ event: 'token_exchange_refused', status: response.status, error: body.error, description: body.error_description });
      throw new ToolError(
        `the authorization server refused the token exchange for session-buddy: ${String(body.error ?? response.status)}${body.error_description ? ` (${String(body.error_description)})` : ''}`,
        'downstream_unauthorized',
      );
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : this.config.sessionBuddy.tokenTtlSeconds;
    return { token: body.access_token, expiresAtMs: nowMs + expiresIn * 1000 };
  }

  /** The token endpoint, found once (again after a failure). */
  private discover(): Promise<string> {
    this.endpoint ??= this.findTokenEndpoint().catch((error: unknown) => {
      this.endpoint = undefined;
      throw error;
    });
    return this.endpoint;
  }

  private async findTokenEndpoint(): Promise<string> {
    const expected = this.config.sessionBuddy.client?.authorizationServer as string;
    const resource = new URL(this.config.sessionBuddy.url);
    const fail = (why: string) => new ToolError(`discovery of session-buddy's authorization server failed: ${why}`, 'downstream_unauthorized');
    const getJson = async (url: string): Promise<Record<string, unknown>> => {
      let response: Response;
      try {
        response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(5000) });
      } catch {
        throw fail(`${url} could not be reached`);
      }
      if (!response.ok) throw fail(`${url} answered ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    };
    // RFC 9728 §3.1: the well-known path goes between the host and the resource's path.
    const prm = await getJson(`${resource.origin}/.well-known/oauth-protected-resource${resource.pathname === '/' ? '' : resource.pathname}`);
    const servers = Array.isArray(prm['authorization_servers']) ? (prm['authorization_servers'] as unknown[]).map((s) => String(s).replace(/\/$/, '')) : [];
    if (!servers.includes(expected)) throw fail(`it names ${JSON.stringify(servers)}, not the configured ${expected}`);
    const metadata = await getJson(`${expected}/.well-known/oauth-authorization-server`);
    if (String(metadata['issuer']).replace(/\/$/, '') !== expected) throw fail('the authorization server metadata names another issuer');
    const grants = Array.isArray(metadata['grant_types_supported']) ? (metadata['grant_types_supported'] as unknown[]) : [];
    if (!grants.includes(TOKEN_EXCHANGE_GRANT)) throw fail('the authorization server does not offer token exchange');
    if (typeof metadata['token_endpoint'] !== 'string') throw fail('the authorization server metadata has no token_endpoint');
    this.logger.log({ event: 'token_endpoint_discovered', issuer: expected, tokenEndpoint: metadata['token_endpoint'] });
    return metadata['token_endpoint'];
  }
}
