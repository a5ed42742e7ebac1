import { Injectable } from '@nestjs/common';
import { McpTool, ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';
import type { GrantRecord } from './grant.repository';
import { GrantsService } from './grants.service';

const username = z.string().min(1).max(64);
const listInput = z.object({ username: username.optional(), client_id: z.string().min(1).max(128).optional() });
const idInput = z.object({ id: z.string().uuid() });
const nameInput = z.object({ username });

const view = (g: GrantRecord) => ({
  id: g.id,
  username: g.username,
  client_id: g.clientId,
  resource: g.resource,
  scopes: g.scopes,
  created_at: new Date(g.createdAt).toISOString(),
  last_used_at: new Date(g.lastUsedAt).toISOString(),
  expires_at: new Date(g.expiresAt).toISOString(),
});

/** Admin tools for what people granted their clients (`crossauth grants …`, `crossauth user sign-out-everywhere|remove`). */
@Injectable()
export class GrantsTools {
  constructor(private readonly grants: GrantsService) {}

  @McpTool({
    name: 'grant_list',
    description: "People's live grants (one per sign-in and approval; each renews its client's access), newest first; optionally one person's or one client's.",
    scopes: ['admin'],
    input: listInput,
    annotations: { readOnlyHint: true },
  })
  async list(input: z.infer<typeof listInput>) {
    if (input.username && input.client_id) throw new ToolError('give username or client_id, not both', 'invalid_argument');
    const selector = input.username ? { username: input.username.toLowerCase() } : input.client_id ? { clientId: input.client_id } : undefined;
    return { grants: (await this.grants.list(selector)).map(view) };
  }

  @McpTool({
    name: 'grant_revoke',
    description: 'End one grant: its refresh token stops working and its live access tokens are revoked; the person must sign in again for that client.',
    scopes: ['admin'],
    input: idInput,
    annotations: { destructiveHint: true, idempotentHint: true },
  })
  async revoke(input: z.infer<typeof idInput>) {
    const [revoked] = await this.grants.revoke({ id: input.id }, 'grant_revoke');
    if (!revoked) throw new ToolError(`no live grant ${input.id}`, 'grant_not_found');
    return { ...view(revoked), revoked: true };
  }

  @McpTool({
    name: 'user_sign_out_everywhere',
    description: 'End every grant and browser sign-in of a person and revoke their live tokens here and at session-buddy; their approvals stay remembered.',
    scopes: ['admin'],
    input: nameInput,
    annotations: { destructiveHint: true, idempotentHint: true },
  })
  async signOutEverywhere(input: z.infer<typeof nameInput>) {
    return { username: input.username.toLowerCase(), ...(await this.grants.signOutEverywhere(input.username)) };
  }

  @McpTool({
    name: 'user_remove',
    description: 'Remove a local account: it can no longer sign in, and its grants, approvals and live tokens are revoked.',
    scopes: ['admin'],
    input: nameInput,
    annotations: { destructiveHint: true },
  })
  async remove(input: z.infer<typeof nameInput>) {
    return { username: input.username.toLowerCase(), removed: true, ...(await this.grants.removePerson(input.username)) };
  }
}
