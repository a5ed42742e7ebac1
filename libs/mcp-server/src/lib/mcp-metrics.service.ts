import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuthAuditService, TokenVerifierService } from '@crossauth/auth';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CounterCells, HistogramCells } from './metric-cells';

/** Buckets of the tool latency histogram, in seconds. */
export const TOOL_LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Prometheus metrics (own registry): auth decisions by outcome and reason,
 * verification-cache hits and misses, tool calls and their latency per tool.
 * Calls are counted in plain cells (see metric-cells.ts) and handed to
 * prom-client when scraped.
 */
@Injectable()
export class McpMetricsService implements OnModuleInit {
  readonly registry = new Registry();
  private readonly decisionCells = new CounterCells('outcome', 'reason');
  private readonly toolCallCells = new CounterCells('tool', 'outcome');
  private readonly toolLatency = new HistogramCells('crossauth_tool_call_duration_seconds', 'MCP tool handler latency.', 'tool', TOOL_LATENCY_BUCKETS);

  constructor(
    private readonly audit: AuthAuditService,
    private readonly verifier: TokenVerifierService,
  ) {
    this.decisionCells.register(this.registry, 'crossauth_auth_decisions_total', 'Auth decisions by outcome and reason code.');
    this.toolCallCells.register(this.registry, 'crossauth_tool_calls_total', 'MCP tool calls by tool and outcome.');
    this.toolLatency.register(this.registry);
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

  onModuleInit(): void {
    this.audit.onDecision((d) => this.decisionCells.inc(d.outcome, d.reason));
  }

  /** Records one tool call. */
  observeTool(tool: string, outcome: 'ok' | 'tool_error' | 'denied' | 'internal_error', seconds: number): void {
    this.toolCallCells.inc(tool, outcome);
    this.toolLatency.observe(tool, seconds);
  }
}
