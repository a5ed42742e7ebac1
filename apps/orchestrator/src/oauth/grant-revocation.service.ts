import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { SessionBuddyClient } from '../session-buddy-client/session-buddy.client';

/**
 * Carries revocations of tokens this authorization server granted into the
 * resource servers' own revocation machinery (session-buddy's `revoke_token`
 * and `revoke_subject`, persisted and fanned out to all its instances), so a
 * revoked grant or a removed client stops working there at once. Resources
 * other than session-buddy hold no revocation store this server can reach;
 * their tokens run out within their lifetime (300 s by default).
 */
@Injectable()
export class GrantRevocationService {
  private readonly logger = new Logger(GrantRevocationService.name);

  constructor(
    private readonly sessionBuddy: SessionBuddyClient,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  /** Every token of `clientId` issued so far stops working at the resources it could reach. */
  async revokeClient(clientId: string, resources: readonly string[]): Promise<string[]> {
    if (!resources.includes(this.config.sessionBuddy.url)) return [];
    // "Before" the next second: the client is gone, so nothing newer can exist.
    const before = new Date((Math.floor(Date.now() / 1000) + 1) * 1000).toISOString();
    await this.call('revoke_subject', { subject: clientId, issued_before: before });
    return [this.config.sessionBuddy.url];
  }

  /** One token (by its jti) stops working at its audience. */
  async revokeToken(jti: string, audience: string): Promise<boolean> {
    if (audience !== this.config.sessionBuddy.url) return false;
    await this.call('revoke_token', { jti });
    return true;
  }

  private async call(tool: string, args: Record<string, unknown>): Promise<void> {
    const result = await this.sessionBuddy.callTool(this.config.auth.issuer, ['admin'], tool, args);
    if (result.isError) {
      const text = (result.content as Array<{ text?: string }>)[0]?.text ?? 'refused';
      this.logger.error({ event: 'revocation_not_propagated', tool, error: text });
      throw new Error(`session-buddy refused ${tool}: ${text}`);
    }
    this.logger.warn({ event: 'revocation_propagated', tool, target: 'session-buddy' });
  }
}
