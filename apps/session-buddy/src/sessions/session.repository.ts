/** A work session as stored. Times are milliseconds since the epoch. */
export interface SessionRecord {
  readonly id: string;
  readonly owner: string;
  readonly project: string;
  readonly workingDirectory: string | null;
  readonly status: 'open' | 'closed';
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly summary: string | null;
  readonly startEventId: string | null;
  readonly endEventId: string | null;
}

export interface CheckpointRecord {
  readonly id: number;
  readonly sessionId: string;
  readonly createdAt: number;
  readonly notes: string;
  readonly qualityScore: number | null;
  readonly files: string[];
}

export interface SessionListFilter {
  /** Undefined lists every owner's sessions (admin). */
  readonly owner?: string;
  readonly project?: string;
  readonly status?: 'open' | 'closed';
  readonly since?: number;
  readonly until?: number;
  readonly limit: number;
  /** Keyset cursor: sessions strictly older than this. */
  readonly before?: { startedAt: number; id: string };
}

/**
 * Storage for sessions, checkpoints and tracked events. Implementations must
 * make each method atomic and durable before resolving.
 */
export interface SessionRepository {
  /** Inserts an open session; resolves `undefined` if the owner already has one open for the project. */
  insertOpen(session: Omit<SessionRecord, 'status' | 'endedAt' | 'summary' | 'endEventId'>): Promise<SessionRecord | undefined>;
  findOpen(owner: string, project: string): Promise<SessionRecord | undefined>;
  /**
   * Adds a checkpoint to the owner's open session of a project, in one
   * transaction; resolves `undefined` when there is none. `total` counts it.
   */
  addCheckpointToOpen(
    owner: string,
    project: string,
    checkpoint: Omit<CheckpointRecord, 'id' | 'sessionId'>,
  ): Promise<{ checkpoint: CheckpointRecord; total: number } | undefined>;
  /** Closes an open session; resolves `undefined` if it was not open. */
  close(id: string, endedAt: number, summary: string | null, endEventId?: string): Promise<SessionRecord | undefined>;
  checkpoints(sessionId: string, limit: number): Promise<CheckpointRecord[]>;
  countCheckpoints(sessionId: string): Promise<number>;
  list(filter: SessionListFilter): Promise<SessionRecord[]>;
  /** The session a start or end event id was recorded on. */
  findByEvent(eventId: string): Promise<{ session: SessionRecord; kind: 'start' | 'end' } | undefined>;
}

/** DI token for the {@link SessionRepository}. */
export const SESSION_REPOSITORY = Symbol('session-buddy:session-repository');
