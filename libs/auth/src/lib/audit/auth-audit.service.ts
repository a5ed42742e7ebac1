import { Injectable, Logger } from '@nestjs/common';
import type { AuthFailureReason } from '../auth.errors';
import { AuthContextService } from '../context/auth-context.service';

/** One auth decision, as logged. Carries no token, signature or secret. */
export interface AuthDecision {
  readonly outcome: 'allow' | 'deny';
  readonly reason: AuthFailureReason | 'ok' | 'anonymous' | 'auth_disabled' | string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly actor?: string;
  /** The principal's effective scopes, on allow decisions. */
  readonly scopes?: readonly string[];
  /** What was being reached: a route, `tools/call:<name>`, … */
  readonly target: string;
  readonly transport?: string;
  readonly client?: string;
  readonly detail?: string;
  /** Correlates with the request's `X-Request-Id`; taken from the ambient context when absent. */
  readonly requestId?: string;
}

type DecisionListener = (decision: AuthDecision) => void;

/**
 * The audit trail: every auth decision is recorded exactly once, as a
 * structured log line with a reason code. Listeners (metrics, tests) can
 * subscribe without parsing logs.
 */
@Injectable()
export class AuthAuditService {
  private readonly logger = new Logger('AuthAudit');
  private readonly listeners = new Set<DecisionListener>();

  constructor(private readonly context: AuthContextService) {}

  record(decision: AuthDecision): void {
    const full: AuthDecision = decision.requestId !== undefined ? decision : { ...decision, requestId: this.context.requestId };
    if (decision.outcome === 'deny') this.logger.warn({ event: 'auth_decision', ...full });
    else this.logger.log({ event: 'auth_decision', ...full });
    for (const listener of this.listeners) listener(full);
  }

  /** Subscribes to decisions; returns the unsubscribe function. */
  onDecision(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
