import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS, verificationKeyIds, type ResolvedAuthOptions } from '@crossauth/auth';
import { McpTool } from '@crossauth/mcp-server';
import { DownstreamTokenCache } from '../session-buddy-client/downstream-token.cache';
import { SessionBuddyClient } from '../session-buddy-client/session-buddy.client';

/** Liveness and the cross-service key check. */
@Injectable()
export class DiagnosticsTools {
  constructor(
    private readonly sessionBuddy: SessionBuddyClient,
    private readonly tokens: DownstreamTokenCache,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
  ) {}

  @McpTool({ name: 'health_check', description: 'Liveness of the orchestrator.', public: true, annotations: { readOnlyHint: true } })
  health() {
    return { status: 'ok', auth: { mode: this.auth.mode, key_ids: verificationKeyIds(this.auth) } };
  }

  @McpTool({
    name: 'session_buddy_diagnostics',
    description: "Checks session-buddy is reachable and shares our secret (by key id); shows the client's pool and token cache.",
    scopes: ['admin'],
    annotations: { readOnlyHint: true },
  })
  async diagnostics() {
    const keys = await this.sessionBuddy.checkKeys();
    return {
      reachable: keys.reachable,
      our_key_id: keys.ourKeyId,
      session_buddy_key_ids: keys.theirKeyIds,
      keys_match: keys.match,
      detail: keys.detail,
      pooled_clients: this.sessionBuddy.poolSize,
      token_cache: this.tokens.stats,
    };
  }
}
