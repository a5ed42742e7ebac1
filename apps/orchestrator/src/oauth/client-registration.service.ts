import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AUTH_OPTIONS, MemoryFailureThrottleStore, SCOPES, redirectUriProblem, type FailureThrottleStore, type ResolvedAuthOptions } from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { OAuthClientsService } from './oauth-clients.service';

/** RFC 7591 §3.2.2 error codes. */
export type RegistrationErrorCode = 'invalid_redirect_uri' | 'invalid_client_metadata';

/** A registration refused by the policy or as malformed. */
export class RegistrationError extends Error {
  constructor(
    readonly code: RegistrationErrorCode | 'too_many_registrations',
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const GRANT_TYPES = ['authorization_code', 'refresh_token'];

/** What kind of redirect a URI is, for the policy: loopback http, https, or an app's private-use scheme. */
function redirectForm(uri: string): 'loopback' | 'https' | 'private-use' {
  const { protocol } = new URL(uri);
  return protocol === 'http:' ? 'loopback' : protocol === 'https:' ? 'https' : 'private-use';
}

const list = (value: unknown, name: string): string[] | undefined => {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new RegistrationError('invalid_client_metadata', `${name} must be a list of strings`);
  return value;
};

/**
 * Dynamic Client Registration (RFC 7591), for MCP clients that publish no
 * metadata document. The policy: public clients only (auth method `none`)
 * unless `ORCHESTRATOR_REGISTRATION_CONFIDENTIAL`; the redirect forms
 * `ORCHESTRATOR_REGISTRATION_REDIRECTS` allows; the authorization-code and
 * refresh-token grants only; at most `ORCHESTRATOR_REGISTRATION_PER_HOUR`
 * registrations per address per hour (counted across instances with Redis);
 * a client unused for `ORCHESTRATOR_REGISTRATION_UNUSED_DAYS` is removed.
 */
@Injectable()
export class ClientRegistrationService implements OnApplicationShutdown {
  private readonly logger = new Logger(ClientRegistrationService.name);
  private readonly counter: FailureThrottleStore;

  constructor(
    private readonly clients: OAuthClientsService,
    @Inject(AUTH_OPTIONS) auth: ResolvedAuthOptions,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {
    const rule = { limit: config.registration.perHour, windowSeconds: 3600, blockSeconds: 3600 };
    this.counter = auth.failureThrottleStore?.(rule) ?? new MemoryFailureThrottleStore(rule);
  }

  get enabled(): boolean {
    return this.config.registration.enabled;
  }

  /** Removes dynamically registered clients unused for the policy's days, ending the grants people made them; resolves their ids. */
  async removeUnused(endGrants: (clientId: string) => Promise<unknown>, now = Date.now()): Promise<string[]> {
    const unused = await this.clients.unusedDynamic(now - this.config.registration.unusedDays * 86_400_000);
    for (const id of unused) {
      await endGrants(id);
      await this.clients.remove(id);
    }
    if (unused.length) this.logger.log({ event: 'oauth_clients_expired', clients: unused.length });
    return unused;
  }

  onApplicationShutdown(): Promise<void> | void {
    return this.counter.close();
  }

  /** Registers a client from its metadata (RFC 7591 §2); resolves the client information response (§3.2.1). */
  async register(metadata: unknown, address: string | undefined): Promise<Record<string, unknown>> {
    if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata))
      throw new RegistrationError('invalid_client_metadata', 'the body must be a JSON object');
    const fields = metadata as Record<string, unknown>;
    const policy = this.config.registration;
    const redirectUris = list(fields['redirect_uris'], 'redirect_uris') ?? [];
    if (redirectUris.length === 0 || redirectUris.length > 20) throw new RegistrationError('invalid_redirect_uri', 'redirect_uris: 1 to 20 are required');
    for (const uri of redirectUris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new RegistrationError('invalid_redirect_uri', problem);
      if (!policy.redirectForms.includes(redirectForm(uri)))
        throw new RegistrationError(
          'invalid_redirect_uri',
          `${redirectForm(uri)} redirect URIs are not registered here (allowed: ${policy.redirectForms.join(', ')})`,
        );
    }
    const method = fields['token_endpoint_auth_method'] ?? 'none';
    if (method !== 'none' && method !== 'client_secret_basic' && method !== 'client_secret_post')
      throw new RegistrationError('invalid_client_metadata', 'token_endpoint_auth_method: none, client_secret_basic or client_secret_post');
    if (method !== 'none' && !policy.confidential)
      throw new RegistrationError('invalid_client_metadata', 'this server registers public clients only: token_endpoint_auth_method none, with PKCE');
    if (fields['jwks'] !== undefined || fields['jwks_uri'] !== undefined)
      throw new RegistrationError('invalid_client_metadata', 'keys are not registered here; clients with keys are added by an administrator');
    const grants = list(fields['grant_types'], 'grant_types') ?? ['authorization_code'];
    const unsupported = grants.filter((g) => !GRANT_TYPES.includes(g));
    if (unsupported.length || !grants.includes('authorization_code'))
      throw new RegistrationError(
        'invalid_client_metadata',
        `grant_types: authorization_code, optionally refresh_token (not ${unsupported.join(', ') || 'without authorization_code'})`,
      );
    const responseTypes = list(fields['response_types'], 'response_types') ?? ['code'];
    if (responseTypes.some((t) => t !== 'code')) throw new RegistrationError('invalid_client_metadata', 'response_types: code only');
    const scopeField = fields['scope'];
    if (scopeField !== undefined && typeof scopeField !== 'string') throw new RegistrationError('invalid_client_metadata', 'scope must be a string');
    const scopes = scopeField ? [...new Set(scopeField.split(' ').filter(Boolean))].filter((s) => s !== 'offline_access') : [...SCOPES];
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length || scopes.length === 0)
      throw new RegistrationError('invalid_client_metadata', `scope: some of ${SCOPES.join(' ')}${unknown.length ? ` (not ${unknown.join(' ')})` : ''}`);
    const name = fields['client_name'];
    if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > 100))
      throw new RegistrationError('invalid_client_metadata', 'client_name: 1 to 100 characters');

    const { blockedForMs } = await this.counter.increment(`registration:${address ?? 'unknown'}`);
    if (blockedForMs > 0) {
      const retryAfterSeconds = Math.ceil(blockedForMs / 1000);
      throw new RegistrationError(
        'too_many_registrations',
        `at most ${policy.perHour} registrations per hour from one address; retry in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      );
    }
    let added;
    try {
      added = await this.clients.add({
        id: `mcp-${randomBytes(16).toString('hex')}`,
        ...(typeof name === 'string' ? { name: name.trim() } : {}),
        scopes,
        resources: [this.config.sessionBuddy.url, `${this.config.publicUrl}/mcp`],
        public: method === 'none',
        redirectUris,
        dynamic: true,
      });
    } catch (error) {
      if (error instanceof ToolError) throw new RegistrationError('invalid_client_metadata', error.message);
      throw error;
    }
    const { client, secret } = added;
    this.logger.log({ event: 'oauth_client_registered', client: client.id, auth_method: method, address });
    return {
      client_id: client.id,
      client_id_issued_at: Math.floor(client.createdAt / 1000),
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      ...(client.name ? { client_name: client.name } : {}),
      redirect_uris: client.redirectUris,
      grant_types: grants,
      response_types: ['code'],
      token_endpoint_auth_method: method,
      scope: client.allowedScopes.join(' '),
    };
  }
}
