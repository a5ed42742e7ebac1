import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuthAuditService, TokenVerifierService } from '@crossauth/auth';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics (own registry): auth decisions by outcome and reason,
 * verification-cache hits and misses, tool calls and their latency per tool.
 */
@Injectable()
export class McpMetricsService implements OnModuleInit {
  readonly registry = new Registry();
  private readonly decisions = new Counter({ name: 'crossauth_auth_decisions_total', help: 'Auth decisions by outcome and reason code.', labelNames: ['outcome', 'reason'], registers: [this.registry] });
  private readonly toolCalls = new Counter({ name: 'crossauth_tool_calls_total', help: 'MCP tool calls by tool and outcome.', labelNames: ['tool', 'outcome'], registers: [this.registry] });
  private readonly toolLatency = new Histogram({
    name: 'crossauth_tool_call_duration_seconds',
    help: 'MCP tool handler latency.',
    labelNames: ['tool'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(
    private readonly audit: AuthAuditService,
    private readonly verifier: TokenVerifierService,
  ) {
    const gauges: Array<[string, string, 'hits' | 'misses' | 'size']> = [
      ['crossauth_verification_cache_hits', 'Verification-cache hits since start.', 'hits'],
      ['crossauth_verification_cache_misses', 'Verification-cache misses since start.', 'misses'],
      ['crossauth_verification_cache_entries', 'Tokens in the verification cache.', 'size'],
    ];
    const verifier_ = this.verifier;
    for (const [name, help, stat] of gauges) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(verifier_.cacheStats[stat]);
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
  }

  // prom-client hashes the label object on every labelled call; the label sets
  // are few (tools and reason codes are fixed), so their children are kept.
  private readonly children = new Map<string, unknown>();

  onModuleInit(): void {
    this.audit.onDecision((d) => this.child(`d\0${d.outcome}\0${d.reason}`, () => this.decisions.labels({ outcome: d.outcome, reason: d.reason })).inc());
  }

  /** Records one tool call. */
  observeTool(tool: string, outcome: 'ok' | 'tool_error' | 'denied' | 'internal_error', seconds: number): void {
    this.child(`t\0${tool}\0${outcome}`, () => this.toolCalls.labels({ tool, outcome })).inc();
    this.child(`l\0${tool}`, () => this.toolLatency.labels({ tool })).observe(seconds);
  }

  private child<T>(key: string, create: () => T): T {
    let child = this.children.get(key) as T | undefined;
    if (child === undefined) this.children.set(key, (child = create()));
    return child;
  }
}
