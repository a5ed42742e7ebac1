import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS, subjectRevocationCutoff, type ResolvedAuthOptions } from '@crossauth/auth';
import { PersistentRevocationStore } from '@crossauth/storage';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import type { RevocationDelivery } from './revocation-outbox.repository';
import { RevocationOutboxService } from './revocation-outbox.service';

/** Where a revocation stands at one resource, as `client remove` reports it. */
export type ResourceRevocation =
  | { readonly resource: string; readonly status: 'revoked_here' }
  | { readonly resource: string; readonly status: 'confirmed'; readonly attempts: number; readonly confirmed_at: string }
  | { readonly resource: string; readonly status: 'pending'; readonly attempts: number; readonly last_error: string | null; readonly next_attempt_at: string }
  | { readonly resource: string; readonly status: 'not_notified'; readonly tokens_expire_by: string; readonly note: string };

export interface ClientRevocationReport {
  /** Every token of the client issued up to this instant is revoked. */
  readonly revoked_as_of: string;
  readonly resources: readonly ResourceRevocation[];
}

/** A client's revocation recorded here, with the deliveries it still owes. */
export interface RecordedClientRevocation {
  readonly atMs: number;
  readonly resources: readonly string[];
  readonly deliveries: readonly RevocationDelivery[];
}

/**
 * Revokes tokens this authorization server granted: in its own record (which
 * its verifier and introspection consult, persisted and fanned out to its
 * instances) and at session-buddy, through the revocation outbox, which keeps
 * trying until session-buddy confirms. Other resources hold no store this
 * server can reach: their tokens run out within their lifetime, and
 * introspection calls them inactive at once.
 */
@Injectable()
export class GrantRevocationService {
  constructor(
    private readonly outbox: RevocationOutboxService,
    private readonly record: PersistentRevocationStore,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  /**
   * Step one of removing a client, before it is deleted: every token it was
   * issued so far is revoked here, and what session-buddy must be told is
   * written to the outbox. Repeating it is harmless.
   */
  recordClientRevocation(clientId: string, resources: readonly string[]): Promise<RecordedClientRevocation> {
    return this.recordSubjectRevocation(clientId, resources, 'oauth_client_remove');
  }

  /**
   * Every token whose subject is this person, issued up to now, stops
   * working here at once and at session-buddy as soon as the outbox delivers
   * (one attempt is made before this resolves).
   */
  async revokePerson(username: string, reason: string): Promise<ClientRevocationReport> {
    const recorded = await this.recordSubjectRevocation(username, [this.config.sessionBuddy.url], reason);
    return this.deliverClientRevocation(recorded);
  }

  private async recordSubjectRevocation(subject: string, resources: readonly string[], reason: string): Promise<RecordedClientRevocation> {
    // The moment, not a cutoff: each resource server applies the one rule with its own clock skew.
    const atMs = Date.now();
    const cutoff = subjectRevocationCutoff(atMs, this.auth.clockSkewSeconds);
    await this.record.revokeSubject(subject, cutoff, cutoff + this.auth.maxTokenLifetimeSeconds + this.auth.clockSkewSeconds, reason);
    const deliveries = resources.includes(this.config.sessionBuddy.url)
      ? [await this.outbox.enqueue(subject, 'revoke_subject', { subject, issued_before: new Date(atMs).toISOString() })]
      : [];
    return { atMs, resources, deliveries };
  }

  /** Step two, once the client is deleted: one delivery attempt each, and where every resource stands. */
  async deliverClientRevocation(recorded: RecordedClientRevocation): Promise<ClientRevocationReport> {
    const attempted = await Promise.all(recorded.deliveries.map((d) => this.outbox.attempt(d)));
    return this.report(recorded.atMs, recorded.resources, attempted);
  }

  /** Where the revocation of an already removed client stands, if the outbox still knows it. */
  async clientRevocationState(clientId: string): Promise<ClientRevocationReport | undefined> {
    const deliveries = (await this.outbox.forSubject(clientId)).filter((d) => d.tool === 'revoke_subject');
    const latest = deliveries[0];
    if (!latest) return undefined;
    return this.report(Date.parse(latest.args['issued_before'] ?? '') || latest.createdAt, [latest.target], [latest]);
  }

  /** One token (by its jti) stops working here at once, and at session-buddy once the outbox delivers it. */
  async revokeToken(jti: string, expiresAt: number, audience: string, by: string): Promise<'confirmed' | 'pending' | 'recorded_here'> {
    await this.record.revokeToken(jti, expiresAt + this.auth.clockSkewSeconds, by);
    if (audience !== this.config.sessionBuddy.url) return 'recorded_here';
    const delivery = await this.outbox.attempt(await this.outbox.enqueue(by, 'revoke_token', { jti }));
    return delivery.deliveredAt === null ? 'pending' : 'confirmed';
  }

  private report(atMs: number, resources: readonly string[], deliveries: readonly RevocationDelivery[]): ClientRevocationReport {
    const expireBy = new Date(atMs + (this.config.oauth.tokenTtlSeconds + this.auth.clockSkewSeconds) * 1000).toISOString();
    return {
      revoked_as_of: new Date(atMs).toISOString(),
      resources: resources.map((resource): ResourceRevocation => {
        const d = deliveries.find((x) => x.target === resource);
        if (d?.deliveredAt) return { resource, status: 'confirmed', attempts: d.attempts, confirmed_at: new Date(d.deliveredAt).toISOString() };
        if (d) return { resource, status: 'pending', attempts: d.attempts, last_error: d.lastError, next_attempt_at: new Date(d.nextAttemptAt).toISOString() };
        if (this.auth.audiences.includes(resource)) return { resource, status: 'revoked_here' };
        return {
          resource,
          status: 'not_notified',
          tokens_expire_by: expireBy,
          note: `verifies tokens by JWKS, which cannot carry a revocation: its tokens stay valid there until they expire (at most ${this.config.oauth.tokenTtlSeconds} s); introspection answers active: false now`,
        };
      }),
    };
  }
}
