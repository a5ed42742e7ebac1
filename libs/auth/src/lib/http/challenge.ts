import type { AuthError } from '../auth.errors';

const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** Input for a `WWW-Authenticate: Bearer …` challenge. */
export interface ChallengeInput {
  /** The failure, or undefined for a plain "authenticate first" challenge. */
  readonly error?: AuthError;
  /** RFC 9728 `resource_metadata` URL. */
  readonly resourceMetadataUrl?: string;
  /** Scopes worth requesting (RFC 6750 §3 `scope`). */
  readonly scope?: readonly string[];
}

/**
 * Builds the RFC 6750 §3 challenge the MCP authorization spec requires:
 * no `error` when no token was presented, `invalid_token` with a description
 * when one was, `insufficient_scope` with the needed scopes for a 403.
 */
export function buildBearerChallenge(input: ChallengeInput): string {
  const params: string[] = [];
  const error = input.error;
  if (error && error.reason !== 'missing') {
    params.push(`error=${quote(error.reason === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token')}`);
    params.push(`error_description=${quote(`${error.reason}: ${error.message}`)}`);
  }
  const scope = error?.reason === 'insufficient_scope' && error.requiredScopes.length ? error.requiredScopes : input.scope;
  if (scope && scope.length) params.push(`scope=${quote(scope.join(' '))}`);
  if (input.resourceMetadataUrl) params.push(`resource_metadata=${quote(input.resourceMetadataUrl)}`);
  return params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/** The JSON body sent with a 401/403, mirroring the challenge. */
export function challengeBody(error: AuthError): { error: string; error_description: string; reason: string } {
  return {
    error: error.reason === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token',
    error_description: error.message,
    reason: error.reason,
  };
}
