/**
 * SQLite schema migrations, applied in order by {@link migrate}; the index + 1 is the version stored in
 * `PRAGMA user_version`. Never edit a released migration: append a new one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: sessions (with idempotent event ids), checkpoints, reflections with full-text search.
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    project TEXT NOT NULL,
    working_directory TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    summary TEXT,
    -- track_session_start/end event ids: a repeated event finds its session here.
    start_event_id TEXT UNIQUE,
    end_event_id TEXT UNIQUE
  );
  -- At most one open session per owner and project, enforced by the database.
  CREATE UNIQUE INDEX sessions_one_open ON sessions (owner, project) WHERE status = 'open';
  CREATE INDEX sessions_owner_started ON sessions (owner, started_at DESC, id DESC);

  CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    notes TEXT NOT NULL,
    quality_score INTEGER CHECK (quality_score BETWEEN 0 AND 100),
    files TEXT NOT NULL DEFAULT '[]'
  );
  CREATE INDEX checkpoints_session ON checkpoints (session_id, id DESC);

  CREATE TABLE reflections (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    project TEXT,
    content TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
  );
  CREATE INDEX reflections_owner ON reflections (owner, created_at DESC);
  CREATE TABLE reflection_tags (
    reflection_id TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (reflection_id, tag)
  );
  CREATE VIRTUAL TABLE reflections_fts USING fts5 (content, tags, content = 'reflections', content_rowid = 'rowid', tokenize = 'porter unicode61');
  CREATE TRIGGER reflections_ai AFTER INSERT ON reflections BEGIN
    INSERT INTO reflections_fts (rowid, content, tags) VALUES (new.rowid, new.content, new.tags);
  END;
  CREATE TRIGGER reflections_ad AFTER DELETE ON reflections BEGIN
    INSERT INTO reflections_fts (reflections_fts, rowid, content, tags) VALUES ('delete', old.rowid, old.content, old.tags);
  END;
  `,
  // 2: signed cross-project messages; the signature is unique, so a replay can never be stored twice.
  `
  CREATE TABLE project_messages (
    id TEXT PRIMARY KEY,
    from_project TEXT NOT NULL,
    to_project TEXT NOT NULL,
    content TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    received_from TEXT NOT NULL,
    signature TEXT NOT NULL UNIQUE
  );
  CREATE INDEX project_messages_to ON project_messages (to_project, received_at DESC);
  `,
  // 3: revocations, kept until every token they cover has expired.
  `
  CREATE TABLE revocations (
    kind TEXT NOT NULL CHECK (kind IN ('token', 'subject')),
    value TEXT NOT NULL,
    issued_before INTEGER,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    revoked_by TEXT NOT NULL,
    PRIMARY KEY (kind, value)
  );
  `,
];
