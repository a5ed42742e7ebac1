import { Controller, Get, Header, Inject } from '@nestjs/common';
import { CLIENT_ASSERTION_ALGORITHMS, Public, SCOPES, TOKEN_EXCHANGE_GRANT } from '@crossauth/auth';
import { OFFLINE_ACCESS } from './authorization-request';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';

/**
 * RFC 8414 authorization server metadata, describing what is implemented and
 * nothing more: the authorization-code grant with PKCE (S256) and rotating
 * refresh tokens for people, and the client-credentials and token-exchange grants for machines, with
 * public clients (`none`), client secrets (Basic or in the body) or signed
 * client assertions.
 */
@Public()
@Controller('.well-known')
export class AuthorizationServerMetadataController {
  private readonly metadata: Record<string, unknown>;

  constructor(@Inject(orchestratorConfig.KEY) config: OrchestratorConfig) {
    const base = config.publicUrl;
    this.metadata = {
      issuer: config.auth.issuer,
      token_endpoint: `${base}/oauth/token`,
      authorization_endpoint: `${base}/oauth/authorize`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE_GRANT],
      // Only with public-key signing: an HS256 issuer has nothing to publish.
      ...(config.signing.alg === 'HS256' ? {} : { jwks_uri: `${base}/.well-known/jwks.json` }),
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
      revocation_endpoint: `${base}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
      introspection_endpoint: `${base}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
      // SEP-2207: clients that see offline_access ask for it to get a refresh token; session-buddy never asks for it.
      scopes_supported: [...SCOPES, OFFLINE_ACCESS],
      client_id_metadata_document_supported: config.clientMetadata.enabled,
      ...(config.registration.enabled ? { registration_endpoint: `${base}/oauth/register` } : {}),
    };
  }

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  get(): Record<string, unknown> {
    return this.metadata;
  }
}
