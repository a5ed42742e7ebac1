import { pkceChallengeProblem, redirectUriMatches } from '@crossauth/auth';
import type { OAuthClientRecord } from './oauth-client.repository';

/** The OpenID-flavoured scope clients add to ask for a refresh token (SEP-2207). */
export const OFFLINE_ACCESS = 'offline_access';

/** The parameters an authorization request carries, and which the sign-in forms carry on. */
export const AUTHORIZATION_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'prompt',
] as const;

/** A request that passed every check: what the person is asked to approve. */
export interface AuthorizationRequest {
  readonly client: OAuthClientRecord;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly codeChallenge: string;
  /** OpenID Connect `prompt`: `consent` asks again even when remembered, `none` asks nothing. */
  readonly prompt: 'none' | 'consent' | 'login' | undefined;
}

/**
 * The outcome of checking an authorization request (RFC 6749 §4.1.2.1 as
 * OAuth 2.1 profiles it). Until the client and its redirect URI are known
 * good, a refusal is shown on our own page and never redirected; after, it
 * goes back to the client with `state` and `iss`.
 */
export type CheckedAuthorization =
  | { readonly ok: AuthorizationRequest }
  | { readonly page: string }
  | { readonly redirect: { readonly uri: string; readonly state: string | undefined; readonly error: string; readonly description: string } };

export async function checkAuthorizationRequest(
  params: URLSearchParams,
  findClient: (id: string) => Promise<OAuthClientRecord | { readonly refused: string } | undefined>,
): Promise<CheckedAuthorization> {
  const one = (name: string): string | undefined => params.get(name) ?? undefined;
  const repeated = AUTHORIZATION_PARAMETERS.find((name) => name !== 'resource' && params.getAll(name).length > 1);
  const clientId = one('client_id');
  if (!clientId) return { page: 'The request names no client (client_id is missing).' };
  if (params.getAll('client_id').length > 1) return { page: 'The request names more than one client.' };
  const client = clientId.length <= 2048 ? await findClient(clientId) : undefined;
  if (client && 'refused' in client) return { page: `The application's metadata document (its client_id URL) cannot be used: ${client.refused}.` };
  if (!client?.redirectUris?.length) return { page: 'The client named in this request is not registered to sign people in here.' };
  const asked = params.getAll('redirect_uri');
  let redirectUri: string | undefined;
  if (asked.length === 0 && client.redirectUris.length === 1) redirectUri = client.redirectUris[0];
  else if (asked.length === 1 && redirectUriMatches(client.redirectUris, asked[0] as string)) redirectUri = asked[0];
  if (!redirectUri) return { page: 'The redirect URI in this request is not one the client registered, so the request is not sent back to it.' };

  const state = one('state');
  const fail = (error: string, description: string): CheckedAuthorization => ({ redirect: { uri: redirectUri as string, state, error, description } });
  if (repeated) return fail('invalid_request', `${repeated} appears more than once`);
  const responseType = one('response_type');
  if (responseType !== 'code') return fail(responseType === undefined ? 'invalid_request' : 'unsupported_response_type', 'response_type must be code');
  const pkce = pkceChallengeProblem(one('code_challenge'), one('code_challenge_method'));
  if (pkce) return fail('invalid_request', pkce);
  const resources = params.getAll('resource');
  if (resources.length !== 1)
    return fail('invalid_target', resources.length === 0 ? 'resource is required (RFC 8707): the MCP server the token is for' : 'one resource per request');
  const resource = resources[0] as string;
  if (!client.allowedResources.includes(resource)) return fail('invalid_target', `resource ${resource.slice(0, 200)} is not registered for this client`);
  // SEP-2207: offline_access asks for a refresh token, which every person's client gets here; it is no scope of the resource.
  const named = [...new Set((one('scope') ?? '').split(' ').filter(Boolean))].filter((s) => s !== OFFLINE_ACCESS);
  const scopes = named.length === 0 && one('scope') !== '' ? [...client.allowedScopes] : named;
  const unknown = scopes.filter((s) => !client.allowedScopes.includes(s));
  if (scopes.length === 0 || unknown.length)
    return fail('invalid_scope', scopes.length === 0 ? 'scope is empty' : `this client may not ask for ${unknown.join(' ')}`);
  const prompt = one('prompt');
  if (prompt !== undefined && prompt !== 'none' && prompt !== 'consent' && prompt !== 'login')
    return fail('invalid_request', 'prompt is none, login or consent');
  return { ok: { client, redirectUri, state, resource, scopes, codeChallenge: one('code_challenge') as string, prompt } };
}
