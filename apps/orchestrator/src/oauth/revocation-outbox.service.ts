import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { SessionBuddyClient } from '../session-buddy-client/session-buddy.client';
import { REVOCATION_OUTBOX_REPOSITORY, type RevocationDelivery, type RevocationOutboxRepository } from './revocation-outbox.repository';

/** Confirmed deliveries are kept this long, so a repeated `client remove` can still report them. */
const KEEP_CONFIRMED_MS = 7 * 24 * 3600 * 1000;
const BATCH = 20;
const FIRST_RETRY_MS = 1000;

/**
 * Delivers the revocations this authorization server owes resource servers,
 * until each is confirmed. A delivery is written (durably, in the
 * orchestrator's database) before the grant it revokes is deleted, attempted
 * at once, and then retried with exponential backoff capped by
 * `ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS`, also after a restart.
 *
 * With several instances on one PostgreSQL each polls the outbox; a delivery
 * may then reach session-buddy twice, which is harmless: `revoke_subject` and
 * `revoke_token` are idempotent.
 */
@Injectable()
export class RevocationOutboxService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationOutboxService.name);
  private readonly inFlight = new Map<string, Promise<RevocationDelivery>>();
  private timer?: NodeJS.Timeout;
  private draining = false;
  private lastPrune = 0;

  constructor(
    @Inject(REVOCATION_OUTBOX_REPOSITORY) private readonly outbox: RevocationOutboxRepository,
    private readonly sessionBuddy: SessionBuddyClient,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = Math.min(FIRST_RETRY_MS, this.config.oauth.revocationRetryMaxSeconds * 1000);
    this.timer = setInterval(() => void this.drain(), every);
    this.timer.unref();
    void this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Records a revocation session-buddy must apply; nothing is sent yet. */
  async enqueue(subject: string, tool: RevocationDelivery['tool'], args: Record<string, string>): Promise<RevocationDelivery> {
    const now = Date.now();
    const delivery: RevocationDelivery = {
      id: randomUUID(),
      target: this.config.sessionBuddy.url,
      tool,
      args,
      subject,
      createdAt: now,
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      deliveredAt: null,
    };
    await this.outbox.add(delivery);
    return delivery;
  }

  /** One attempt now (joining one already under way); answers the delivery's state after it. */
  attempt(delivery: RevocationDelivery): Promise<RevocationDelivery> {
    const running = this.inFlight.get(delivery.id);
    if (running) return running;
    const attempt = this.send(delivery).finally(() => this.inFlight.delete(delivery.id));
    this.inFlight.set(delivery.id, attempt);
    return attempt;
  }

  /** Every delivery owed for `subject`'s grants, newest first (confirmed ones for a week). */
  forSubject(subject: string): Promise<RevocationDelivery[]> {
    return this.outbox.forSubject(subject);
  }

  private async send(delivery: RevocationDelivery): Promise<RevocationDelivery> {
    const attempts = delivery.attempts + 1;
    try {
      const result = await this.sessionBuddy.callTool(this.config.auth.callerId, ['admin'], delivery.tool, { ...delivery.args });
      if (result.isError)
        throw new Error(`session-buddy refused ${delivery.tool}: ${(result.content as Array<{ text?: string }>)[0]?.text ?? 'no reason given'}`);
    } catch (error) {
      const lastError = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const nextAttemptAt = Date.now() + Math.min(this.config.oauth.revocationRetryMaxSeconds * 1000, FIRST_RETRY_MS * 2 ** (attempts - 1));
      await this.outbox.failed(delivery.id, lastError, nextAttemptAt);
      this.logger.error({
        event: 'revocation_not_propagated',
        reason: 'delivery_failed',
        tool: delivery.tool,
        subject: delivery.subject,
        target: delivery.target,
        attempts,
        error: lastError,
        next_attempt_at: new Date(nextAttemptAt).toISOString(),
      });
      return { ...delivery, attempts, lastError, nextAttemptAt };
    }
    const deliveredAt = Date.now();
    await this.outbox.delivered(delivery.id, deliveredAt);
    this.logger.warn({ event: 'revocation_propagated', tool: delivery.tool, subject: delivery.subject, target: delivery.target, attempts });
    return { ...delivery, attempts, lastError: null, deliveredAt };
  }

  /** Attempts every due delivery, one at a time; a failing store is logged and tried again at the next tick. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      const now = Date.now();
      for (const delivery of await this.outbox.due(now, BATCH)) await this.attempt(delivery);
      if (now - this.lastPrune > 3600_000) {
        this.lastPrune = now;
        await this.outbox.prune(now - KEEP_CONFIRMED_MS);
      }
    } catch (error) {
      this.logger.error({ event: 'revocation_outbox_unavailable', reason: 'store_error', error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.draining = false;
    }
  }
}
