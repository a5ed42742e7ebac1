import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS, createEnvelope, type Principal, type ResolvedAuthOptions } from '@crossauth/auth';
import { McpTool, RelayedToolResult, ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';
import { SessionBuddyClient } from '../session-buddy-client/session-buddy.client';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';

// Bounds here keep junk off the wire; session-buddy applies the precise rules
// and its messages come back to the caller unchanged.
const project = z.string().min(1).max(100);
const selector = { project: project.optional(), working_directory: z.string().min(1).max(4096).optional() };

const beginInput = z.object(selector);
const progressInput = z.object({
  ...selector,
  notes: z.string().min(1).max(10_000),
  quality_score: z.number().int().min(0).max(100).optional(),
  files_touched: z.array(z.string().max(1024)).max(200).optional(),
});
const finishInput = z.object({ ...selector, summary: z.string().max(10_000).optional() });
const statusInput = z.object(selector);
const rememberInput = z.object({ content: z.string().min(1).max(20_000), tags: z.array(z.string().max(50)).max(20).optional(), project: project.optional() });
const sendInput = z.object({
  to_project: project.default('session-buddy'),
  content: z.union([z.string().min(1).max(20_000), z.record(z.string(), z.unknown())]),
});
const recallInput = z.object({ query: z.string().min(1).max(500), project: project.optional(), limit: z.number().int().min(1).max(50).optional() });

/**
 * Workflow tools that perform session-buddy tools on the caller's behalf.
 * Each mints (from cache) a token for the caller's subject carrying only the
 * scope that one downstream tool needs, with `act` naming the orchestrator.
 */
@Injectable()
export class WorkflowTools {
  constructor(
    private readonly sessionBuddy: SessionBuddyClient,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  @McpTool({ name: 'begin_project_session', description: 'Start a work session for a project in session-buddy.', scopes: ['write'], input: beginInput })
  begin(input: z.infer<typeof beginInput>, principal: Principal) {
    return this.relay(principal, ['write'], 'start', input);
  }

  @McpTool({ name: 'record_progress', description: "Record a checkpoint in the project's open session.", scopes: ['write'], input: progressInput })
  progress(input: z.infer<typeof progressInput>, principal: Principal) {
    return this.relay(principal, ['write'], 'checkpoint', input);
  }

  @McpTool({ name: 'finish_project_session', description: "End the project's open session with a summary.", scopes: ['write'], input: finishInput })
  finish(input: z.infer<typeof finishInput>, principal: Principal) {
    return this.relay(principal, ['write'], 'end', input);
  }

  @McpTool({
    name: 'project_status',
    description: "The caller's open session for a project.",
    scopes: ['read'],
    input: statusInput,
    annotations: { readOnlyHint: true },
  })
  status(input: z.infer<typeof statusInput>, principal: Principal) {
    return this.relay(principal, ['read'], 'status', input);
  }

  @McpTool({ name: 'remember', description: 'Store a lesson learned in session-buddy.', scopes: ['write'], input: rememberInput })
  remember(input: z.infer<typeof rememberInput>, principal: Principal) {
    return this.relay(principal, ['write'], 'store_reflection', input);
  }

  @McpTool({
    name: 'recall',
    description: 'Search your lessons learned in session-buddy.',
    scopes: ['read'],
    input: recallInput,
    annotations: { readOnlyHint: true },
  })
  recall(input: z.infer<typeof recallInput>, principal: Principal) {
    return this.relay(principal, ['read'], 'quick_search', input);
  }

  @McpTool({
    name: 'send_project_message',
    description: "Send a signed cross-project message (the predecessors' HMAC envelope) to session-buddy.",
    scopes: ['write'],
    input: sendInput,
  })
  async send(input: z.infer<typeof sendInput>, principal: Principal) {
    const key = this.auth.keyRing?.current;
    if (!key) throw new ToolError('cannot sign messages: the orchestrator has no secret configured', 'no_secret');
    const envelope = createEnvelope({ from_project: this.config.auth.callerId, to_project: input.to_project, content: input.content }, key.key);
    return this.relay(principal, ['write'], 'receive_project_message', { envelope });
  }

  private async relay(principal: Principal, scopes: string[], tool: string, input: Record<string, unknown>): Promise<RelayedToolResult> {
    // The caller's own actors (a service acting for a person) stay in the chain, under the orchestrator.
    return new RelayedToolResult(await this.sessionBuddy.callTool(principal.subject, scopes, tool, input, principal.actors ?? []));
  }
}
