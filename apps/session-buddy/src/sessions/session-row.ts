import type { CheckpointRecord, SessionRecord } from './session.repository';

/** A `sessions` row as both engines return it. */
export type SessionRow = {
  id: string;
  owner: string;
  project: string;
  working_directory: string | null;
  status: 'open' | 'closed';
  started_at: number;
  ended_at: number | null;
  summary: string | null;
  start_event_id: string | null;
  end_event_id: string | null;
};

/** A `checkpoints` row: `files` is JSON text in SQLite, already an array from PostgreSQL's JSONB. */
export type CheckpointRow = { id: number; session_id: string; created_at: number; notes: string; quality_score: number | null; files: string | string[] };

export const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  owner: r.owner,
  project: r.project,
  workingDirectory: r.working_directory,
  status: r.status,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  summary: r.summary,
  startEventId: r.start_event_id,
  endEventId: r.end_event_id,
});

export const toCheckpoint = (r: CheckpointRow): CheckpointRecord => ({
  id: r.id,
  sessionId: r.session_id,
  createdAt: r.created_at,
  notes: r.notes,
  qualityScore: r.quality_score,
  files: typeof r.files === 'string' ? (JSON.parse(r.files) as string[]) : r.files,
});
