import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTH_OPTIONS, EnvelopeError, ownerOf, stringifyExactJson, verifyEnvelope, type Principal, type ResolvedAuthOptions } from '@crossauth/auth';
import { McpTool, ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';
import { sessionBuddyConfig } from '../config/session-buddy.config';
import type { SessionBuddyConfig } from '../config/env.schema';
import { iso } from '../sessions/project.schema';
import { PROJECT_MESSAGE_REPOSITORY, type ProjectMessageRepository } from './project-message.repository';

const receiveInput = z.object({
  // The envelope is checked field by field by verifyEnvelope; only its size is bounded here.
  envelope: z.record(z.string(), z.unknown()).refine((e) => stringifyExactJson(e).length <= 64 * 1024, 'envelope must be at most 64 KiB'),
});
const listInput = z.object({ limit: z.number().int().min(1).max(100).default(20) });

/**
 * Signed cross-project messages in the Python predecessors' envelope format
 * (docs/auth-protocol.md). Unlike them, stale, future, misaddressed and
 * replayed envelopes are refused.
 */
@Injectable()
export class MessagesTools {
  private readonly logger = new Logger(MessagesTools.name);

  constructor(
    @Inject(PROJECT_MESSAGE_REPOSITORY) private readonly messages: ProjectMessageRepository,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(sessionBuddyConfig.KEY) private readonly config: SessionBuddyConfig,
  ) {}

  // exactNumbers: the HMAC covers the sender's numbers as Python wrote them (85.0, ints beyond 2^53).
  @McpTool({
    name: 'receive_project_message',
    description: 'Receive a signed cross-project message envelope (HMAC-SHA256 over Python json.dumps(sort_keys=True)).',
    scopes: ['write'],
    input: receiveInput,
    exactNumbers: true,
  })
  async receive(input: z.infer<typeof receiveInput>, principal: Principal) {
    let envelope;
    try {
      envelope = await verifyEnvelope(input.envelope, {
        secrets: this.auth.keyRing?.all.map((k) => k.key) ?? [],
        recipient: this.config.projectId,
        // The request-signature replay store: shared by every instance when Redis is configured.
        replays: this.auth.nonceStore,
        // One signature window for signed requests and messages (SESSION_BUDDY_SIGNATURE_MAX_AGE_SECONDS).
        maxAgeSeconds: this.auth.signatureMaxAgeSeconds,
        skewSeconds: this.config.auth.clockSkewSeconds,
      });
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      this.logger.warn({ event: 'envelope_refused', reason: error.reason, subject: ownerOf(principal) });
      throw new ToolError(`envelope refused: ${error.message}`, `envelope_${error.reason}`);
    }
    const stored = await this.messages.insert({
      id: randomUUID(),
      fromProject: envelope.message.from_project,
      toProject: envelope.message.to_project,
      content: envelope.message.content,
      sentAt: Date.parse(envelope.message.timestamp),
      receivedAt: Date.now(),
      receivedFrom: ownerOf(principal),
      signature: envelope.signature,
    });
    // The database remembers every signature, so a replay is refused even after a restart.
    if (!stored) throw new ToolError('envelope refused: replayed: this envelope was already received', 'envelope_replayed');
    return { accepted: true, from_project: envelope.message.from_project, to_project: envelope.message.to_project };
  }

  @McpTool({
    name: 'list_project_messages',
    description: 'Verified messages received for this project, newest first.',
    scopes: ['read'],
    input: listInput,
    annotations: { readOnlyHint: true },
  })
  async list(input: z.infer<typeof listInput>) {
    const rows = await this.messages.list(this.config.projectId, input.limit);
    return {
      messages: rows.map((m) => ({
        id: m.id,
        from_project: m.fromProject,
        content: m.content,
        sent_at: iso(m.sentAt),
        received_at: iso(m.receivedAt),
        delivered_by: m.receivedFrom,
      })),
    };
  }
}
