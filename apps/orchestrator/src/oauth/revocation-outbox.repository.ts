/**
 * A revocation this authorization server owes a resource server: written
 * before the grant it revokes is deleted, removed from the queue only once
 * the resource server has confirmed it. Times are ms since the epoch.
 */
export interface RevocationDelivery {
  readonly id: string;
  /** The resource server (its MCP URL) that must apply it. */
  readonly target: string;
  /** The resource server's admin tool and its arguments. */
  readonly tool: 'revoke_subject' | 'revoke_token';
  readonly args: Readonly<Record<string, string>>;
  /** Whose grant it revokes (a client id), for reporting. */
  readonly subject: string;
  readonly createdAt: number;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  /** Why the last attempt failed, in the resource server's or the transport's words; never a token. */
  readonly lastError: string | null;
  readonly deliveredAt: number | null;
}

/** The outbox of revocations to deliver. */
export interface RevocationOutboxRepository {
  add(delivery: RevocationDelivery): Promise<void>;
  /** Undelivered deliveries whose next attempt is due, oldest first. */
  due(nowMs: number, limit: number): Promise<RevocationDelivery[]>;
  /** Every delivery for `subject`, newest first (delivered ones until pruned). */
  forSubject(subject: string): Promise<RevocationDelivery[]>;
  /** How many are still undelivered. */
  pendingCount(): Promise<number>;
  delivered(id: string, atMs: number): Promise<void>;
  failed(id: string, error: string, nextAttemptAt: number): Promise<void>;
  /** Forgets deliveries confirmed before `beforeMs`. */
  prune(beforeMs: number): Promise<void>;
}

/** DI token for the {@link RevocationOutboxRepository}. */
export const REVOCATION_OUTBOX_REPOSITORY = Symbol('orchestrator:revocation-outbox-repository');
