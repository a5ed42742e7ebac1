import { Injectable, Logger, type LogLevel } from '@nestjs/common';
import type { AuthFailureReason } from '../auth.errors';
import { AuthContextService } from '../context/auth-context.service';

/** One auth decision, as logged. Carries no token, signature or secret. */
export interface AuthDecision {
  readonly outcome: 'allow' | 'deny';
  readonly reason: AuthFailureReason | 'ok' | 'anonymous' | 'auth_disabled' | string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly actor?: string;
  /** The delegation chain (current actor first), when there is more than one actor. */
  readonly actors?: readonly string[];
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
    const level = decision.outcome === 'deny' ? 'warn' : 'log';
    // Allow lines come with every request; when the app logs at `warn` they would be
    // built only to be dropped (a few µs per call in the load bench's profile).
    if (this.printed(level)) this.logger[level]({ event: 'auth_decision', ...full });
    for (const listener of this.listeners) listener(full);
  }

  /**
   * Whether the logger in use prints this level. Asked every time, as an app can
   * swap its logger; a logger that cannot say is assumed to print everything.
   * (Nest's static `Logger.isLevelEnabled` is not used: it answers false when no
   * levels were set, which would silently drop the audit trail.)
   */
  private printed(level: LogLevel): boolean {
    const instance = this.logger.localInstance as { isLevelEnabled?: (level: LogLevel) => boolean } | undefined;
    return typeof instance?.isLevelEnabled === 'function' ? instance.isLevelEnabled(level) : true;
  }

  /** Subscribes to decisions; returns the unsubscribe function. */
  onDecision(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
