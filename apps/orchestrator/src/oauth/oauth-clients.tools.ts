import { Injectable } from '@nestjs/common';
import { McpTool } from '@crossauth/mcp-server';
import { z } from 'zod';
import type { OAuthClientRecord } from './oauth-client.repository';
import { GrantRevocationService } from './grant-revocation.service';
import { GrantsService } from './grants.service';
import { OAuthClientsService } from './oauth-clients.service';

const addInput = z.object({
  id: z.string().min(1).max(128),
  name: z.string().max(200).optional(),
  scopes: z.array(z.string().min(1).max(64)).min(1).max(16),
  resources: z.array(z.string().min(1).max(2048)).min(1).max(16),
  jwks: z.record(z.string(), z.unknown()).optional().describe('public keys (a JWK Set) for private_key_jwt; without it the client gets a secret'),
  public: z.boolean().optional().describe("a public client (an MCP client on a person's machine): no secret, no keys; needs redirect_uris"),
  redirect_uris: z
    .array(z.string().min(1).max(2048))
    .max(16)
    .optional()
    .describe('where authorization responses may go: https, loopback http (any port), or a private-use scheme'),
});
const idInput = z.object({ id: z.string().min(1).max(128) });

const view = (c: OAuthClientRecord) => ({
  client_id: c.id,
  name: c.name,
  scopes: c.allowedScopes,
  resources: c.allowedResources,
  auth_method: c.jwks ? 'private_key_jwt' : c.secretHash ? 'client_secret' : 'none',
  ...(c.redirectUris ? { redirect_uris: c.redirectUris } : {}),
  created_at: new Date(c.createdAt).toISOString(),
  secret_rotated_at: c.secretRotatedAt === null ? null : new Date(c.secretRotatedAt).toISOString(),
});

/**
 * Admin tools that manage the OAuth clients of the token endpoint (`crossauth
 * client …` calls them). A secret appears once, in the answer that made it.
 */
@Injectable()
export class OAuthClientsTools {
  constructor(
    private readonly clients: OAuthClientsService,
    private readonly revocations: GrantRevocationService,
    private readonly grants: GrantsService,
  ) {}

  @McpTool({
    name: 'oauth_client_add',
    description:
      'Register an OAuth client: its scopes and the resources (MCP server URLs) it may get tokens for; for clients people sign in through, its redirect URIs, and public for one with no secret. Returns a secret, once, when it has one.',
    scopes: ['admin'],
    input: addInput,
  })
  async add(input: z.infer<typeof addInput>) {
    const { redirect_uris: redirectUris, ...rest } = input;
    const { client, secret } = await this.clients.add({ ...rest, ...(redirectUris ? { redirectUris } : {}) });
    return { ...view(client), ...(secret ? { client_secret: secret } : {}) };
  }

  @McpTool({
    name: 'oauth_client_list',
    description: 'Registered OAuth clients (never their secrets).',
    scopes: ['admin'],
    annotations: { readOnlyHint: true },
  })
  async list() {
    return { clients: (await this.clients.list()).map(view) };
  }

  @McpTool({
    name: 'oauth_client_rotate_secret',
    description: 'Give a client a new secret (returned once); the old one stops working at once.',
    scopes: ['admin'],
    input: idInput,
    annotations: { destructiveHint: true },
  })
  async rotate(input: z.infer<typeof idInput>) {
    return { client_id: input.id, client_secret: await this.clients.rotateSecret(input.id) };
  }

  @McpTool({
    name: 'oauth_client_remove',
    description:
      'Remove a client: it gets no more tokens; the tokens it holds, and the grants people made it, are revoked here at once and at session-buddy as soon as it confirms (retried until it does). Repeating it reports where that stands.',
    scopes: ['admin'],
    input: idInput,
    annotations: { destructiveHint: true, idempotentHint: true },
  })
  async remove(input: z.infer<typeof idInput>) {
    const client = await this.clients.find(input.id);
    if (!client) {
      const state = await this.revocations.clientRevocationState(input.id);
      return state ? { client_id: input.id, removed: false, already_removed: true, ...state } : { client_id: input.id, removed: false };
    }
    // Revoke durably first, then delete, then deliver: a failure at any step leaves a state a retry completes.
    const recorded = await this.revocations.recordClientRevocation(client.id, client.allowedResources);
    // People's grants to it end too: their access tokens name the person, not the client, as subject.
    const grants = await this.grants.revoke({ clientId: client.id }, 'oauth_client_remove');
    const removed = await this.clients.remove(client.id);
    return { client_id: input.id, removed, grants_revoked: grants.length, ...(await this.revocations.deliverClientRevocation(recorded)) };
  }
}
