import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTH_OPTIONS, subjectRevocationCutoff, type ResolvedAuthOptions } from '@crossauth/auth';
import { PersistentRevocationStore } from '@crossauth/storage';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { SessionBuddyClient } from '../session-buddy-client/session-buddy.client';

/**
 * Revokes tokens this authorization server granted: in its own record (which
 * its verifier and introspection consult, persisted and fanned out to its
 * instances) and in the resource servers' own revocation machinery
 * (session-buddy's `revoke_token` and `revoke_subject`, likewise), so a
 * revoked grant or a removed client stops working there at once. Other
 * resources hold no store this server can reach; their tokens run out within
 * their lifetime (300 s by default), and introspection calls them inactive.
 */
@Injectable()
export class GrantRevocationService {
  private readonly logger = new Logger(GrantRevocationService.name);

  constructor(
    private readonly sessionBuddy: SessionBuddyClient,
    private readonly record: PersistentRevocationStore,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  /** Every token of `clientId` issued so far stops working at the resources it could reach. */
  async revokeClient(clientId: string, resources: readonly string[]): Promise<string[]> {
    // The moment, not a cutoff: each resource server applies the one rule with its own clock skew.
    const atMs = Date.now();
    const cutoff = subjectRevocationCutoff(atMs, this.auth.clockSkewSeconds);
    await this.record.revokeSubject(clientId, cutoff, cutoff + this.auth.maxTokenLifetimeSeconds + this.auth.clockSkewSeconds, 'oauth_client_remove');
    if (!resources.includes(this.config.sessionBuddy.url)) return [this.config.publicUrl];
    await this.call('revoke_subject', { subject: clientId, issued_before: new Date(atMs).toISOString() });
    return [this.config.publicUrl, this.config.sessionBuddy.url];
  }

  /** One token (by its jti) stops working here and at its audience. */
  async revokeToken(jti: string, expiresAt: number, audience: string, by: string): Promise<boolean> {
    await this.record.revokeToken(jti, expiresAt + this.auth.clockSkewSeconds, by);
    if (audience !== this.config.sessionBuddy.url) return false;
    await this.call('revoke_token', { jti });
    return true;
  }

  private async call(tool: string, args: Record<string, unknown>): Promise<void> {
    const result = await this.sessionBuddy.callTool(this.config.auth.callerId, ['admin'], tool, args);
    if (result.isError) {
      const text = (result.content as Array<{ text?: string }>)[0]?.text ?? 'refused';
      this.logger.error({ event: 'revocation_not_propagated', tool, error: text });
      throw new Error(`session-buddy refused ${tool}: ${text}`);
    }
    this.logger.warn({ event: 'revocation_propagated', tool, target: 'session-buddy' });
  }
}
