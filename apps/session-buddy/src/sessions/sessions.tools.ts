import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { hasScopes, ownerOf, type Principal } from '@crossauth/auth';
import { McpTool, ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';
import { isoTimestamp, iso, projectName, projectSelector, resolveProject } from './project.schema';
import { SESSION_REPOSITORY, type SessionRecord, type SessionRepository } from './session.repository';

const notes = z.string().min(1).max(10_000);
const files = z.array(z.string().min(1).max(1024)).max(200);

const startInput = z.object({ ...projectSelector });
const checkpointInput = z.object({
  ...projectSelector,
  notes,
  quality_score: z.number().int().min(0).max(100).optional(),
  files_touched: files.optional(),
});
const endInput = z.object({ ...projectSelector, summary: z.string().max(10_000).optional() });
const statusInput = z.object({ ...projectSelector, recent: z.number().int().min(1).max(50).default(5) });
const listInput = z.object({
  project: projectName.optional(),
  status: z.enum(['open', 'closed']).optional(),
  since: isoTimestamp.optional(),
  until: isoTimestamp.optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
const eventBase = {
  event_version: z.literal('1.0'),
  event_id: z.uuid({ version: 'v4', message: 'event_id must be a UUIDv4' }),
  timestamp: isoTimestamp,
  ...projectSelector,
};
const trackStartInput = z.object(eventBase);
const trackEndInput = z.object({ ...eventBase, summary: z.string().max(10_000).optional() });

const view = (s: SessionRecord) => ({
  session_id: s.id,
  project: s.project,
  working_directory: s.workingDirectory,
  status: s.status,
  started_at: iso(s.startedAt),
  ended_at: iso(s.endedAt),
  summary: s.summary,
  owner: s.owner,
});

const encodeCursor = (s: SessionRecord) => Buffer.from(JSON.stringify([s.startedAt, s.id])).toString('base64url');
function decodeCursor(cursor: string): { startedAt: number; id: string } {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof startedAt === 'number' && typeof id === 'string') return { startedAt, id };
  } catch {
    // fall through
  }
  throw new ToolError('cursor: not a cursor returned by list_sessions', 'invalid_argument');
}

const noOpenSession = (project: string) => new ToolError(`project ${project} has no open session; call start first`, 'no_open_session');

/**
 * Work-session tools. Every session belongs to the token's subject; callers
 * see and change only their own, except that `admin` may list everyone's.
 */
@Injectable()
export class SessionsTools {
  constructor(@Inject(SESSION_REPOSITORY) private readonly sessions: SessionRepository) {}

  @McpTool({
    name: 'start',
    description: 'Start a work session for a project (by project name or working_directory). Returns its id.',
    scopes: ['write'],
    input: startInput,
  })
  async start(input: z.infer<typeof startInput>, principal: Principal) {
    const { project, workingDirectory } = resolveProject(input);
    const session = await this.open(ownerOf(principal), project, workingDirectory, Date.now());
    return view(session);
  }

  @McpTool({
    name: 'checkpoint',
    description: "Record progress in the project's open session: notes, optional quality score (0-100) and files touched.",
    scopes: ['write'],
    input: checkpointInput,
  })
  async checkpoint(input: z.infer<typeof checkpointInput>, principal: Principal) {
    const { project } = resolveProject(input);
    const added = await this.sessions.addCheckpointToOpen(ownerOf(principal), project, {
      createdAt: Date.now(),
      notes: input.notes,
      qualityScore: input.quality_score ?? null,
      files: input.files_touched ?? [],
    });
    if (!added) throw noOpenSession(project);
    const { checkpoint, total } = added;
    return { session_id: checkpoint.sessionId, checkpoint_id: checkpoint.id, recorded_at: iso(checkpoint.createdAt), checkpoints: total };
  }

  @McpTool({
    name: 'end',
    description: "Close the project's open session with a summary. Returns its duration and checkpoint count.",
    scopes: ['write'],
    input: endInput,
  })
  async end(input: z.infer<typeof endInput>, principal: Principal) {
    const session = await this.requireOpen(ownerOf(principal), resolveProject(input).project);
    return this.close(session, Date.now(), input.summary ?? null);
  }

  @McpTool({
    name: 'status',
    description: "The caller's open session for a project, with its most recent checkpoints.",
    scopes: ['read'],
    input: statusInput,
    annotations: { readOnlyHint: true },
  })
  async status(input: z.infer<typeof statusInput>, principal: Principal) {
    const session = await this.requireOpen(ownerOf(principal), resolveProject(input).project);
    const recent = await this.sessions.checkpoints(session.id, input.recent);
    return {
      ...view(session),
      elapsed_seconds: Math.round((Date.now() - session.startedAt) / 1000),
      checkpoints: await this.sessions.countCheckpoints(session.id),
      recent_checkpoints: recent.map((c) => ({
        id: c.id,
        recorded_at: iso(c.createdAt),
        notes: c.notes,
        quality_score: c.qualityScore,
        files_touched: c.files,
      })),
    };
  }

  @McpTool({
    name: 'list_sessions',
    description: "The caller's sessions, newest first, filterable by project, status and start time; paginated with cursor.",
    scopes: ['read'],
    input: listInput,
    annotations: { readOnlyHint: true },
  })
  async listSessions(input: z.infer<typeof listInput>, principal: Principal) {
    const rows = await this.sessions.list({
      owner: hasScopes(principal, ['admin']) ? undefined : ownerOf(principal),
      project: input.project,
      status: input.status,
      since: input.since ? Date.parse(input.since) : undefined,
      until: input.until ? Date.parse(input.until) : undefined,
      before: input.cursor ? decodeCursor(input.cursor) : undefined,
      limit: input.limit + 1,
    });
    const page = rows.slice(0, input.limit);
    const last = page[page.length - 1];
    return { sessions: page.map(view), next_cursor: rows.length > input.limit && last ? encodeCursor(last) : null };
  }

  @McpTool({
    name: 'track_session_start',
    description: 'Event-style session start (event_version "1.0", UUIDv4 event_id, ISO-8601 timestamp). Repeating an event_id returns the original result.',
    scopes: ['write'],
    input: trackStartInput,
  })
  async trackSessionStart(input: z.infer<typeof trackStartInput>, principal: Principal) {
    const replay = await this.replay(input.event_id, 'start', principal);
    if (replay) return { ...view(replay), duplicate: true };
    const { project, workingDirectory } = resolveProject(input);
    return { ...view(await this.open(ownerOf(principal), project, workingDirectory, Date.parse(input.timestamp), input.event_id)), duplicate: false };
  }

  @McpTool({
    name: 'track_session_end',
    description: 'Event-style session end (event_version "1.0", UUIDv4 event_id, ISO-8601 timestamp). Repeating an event_id returns the original result.',
    scopes: ['write'],
    input: trackEndInput,
  })
  async trackSessionEnd(input: z.infer<typeof trackEndInput>, principal: Principal) {
    const replay = await this.replay(input.event_id, 'end', principal);
    if (replay) return { ...(await this.summarise(replay)), duplicate: true };
    const session = await this.requireOpen(ownerOf(principal), resolveProject(input).project);
    const endedAt = Date.parse(input.timestamp);
    if (endedAt < session.startedAt) throw new ToolError('timestamp: the end is before the session started', 'invalid_argument');
    return { ...(await this.close(session, endedAt, input.summary ?? null, input.event_id)), duplicate: false };
  }

  private async open(owner: string, project: string, workingDirectory: string | null, startedAt: number, startEventId?: string) {
    const session = await this.sessions.insertOpen({ id: randomUUID(), owner, project, workingDirectory, startedAt, startEventId: startEventId ?? null });
    if (!session) {
      throw new ToolError(`project ${project} already has an open session; end it before starting another`, 'session_already_open');
    }
    return session;
  }

  private async close(session: SessionRecord, endedAt: number, summary: string | null, endEventId?: string) {
    const closed = await this.sessions.close(session.id, endedAt, summary, endEventId);
    // Lost a race with another end: report it like any other "not open" case.
    if (!closed) throw new ToolError(`project ${session.project} has no open session`, 'no_open_session');
    return this.summarise(closed);
  }

  private async summarise(session: SessionRecord) {
    return {
      ...view(session),
      duration_seconds: session.endedAt === null ? null : Math.round((session.endedAt - session.startedAt) / 1000),
      checkpoints: await this.sessions.countCheckpoints(session.id),
    };
  }

  private async requireOpen(owner: string, project: string): Promise<SessionRecord> {
    const session = await this.sessions.findOpen(owner, project);
    if (!session) throw noOpenSession(project);
    return session;
  }

  private async replay(eventId: string, kind: 'start' | 'end', principal: Principal): Promise<SessionRecord | undefined> {
    const found = await this.sessions.findByEvent(eventId);
    if (!found) return undefined;
    // Another subject's event id: refuse without revealing anything about it.
    if (found.session.owner !== ownerOf(principal) || found.kind !== kind) {
      throw new ToolError('event_id: already used by a different event', 'event_id_conflict');
    }
    return found.session;
  }
}
