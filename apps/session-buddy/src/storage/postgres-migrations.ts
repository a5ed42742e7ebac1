/**
 * PostgreSQL schema migrations, applied in order by {@link migrate}; the index
 * + 1 is the version recorded in `schema_migrations`. The same tables and
 * rules as the SQLite ones (sqlite-migrations.ts); times are milliseconds
 * since the epoch in BIGINT. Never edit a released migration: append one.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  -- Ids compare bytewise, as in SQLite, so keyset cursors page the same way on both.
  CREATE TABLE sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    project TEXT NOT NULL,
    working_directory TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    summary TEXT,
    start_event_id TEXT UNIQUE,
    end_event_id TEXT UNIQUE
  );
  CREATE UNIQUE INDEX sessions_one_open ON sessions (owner, project) WHERE status = 'open';
  CREATE INDEX sessions_owner_started ON sessions (owner, started_at DESC, id DESC);
  CREATE INDEX sessions_started ON sessions (started_at DESC, id DESC);

  CREATE TABLE checkpoints (
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    notes TEXT NOT NULL,
    quality_score INTEGER CHECK (quality_score BETWEEN 0 AND 100),
    files JSONB NOT NULL DEFAULT '[]'
  );
  CREATE INDEX checkpoints_session ON checkpoints (session_id, id DESC);

  CREATE TABLE reflections (
    id TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    project TEXT,
    content TEXT NOT NULL,
    tags JSONB NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    -- PostgreSQL's own full-text search: content weighs more than tags, as in SQLite's bm25 weights.
    search TSVECTOR GENERATED ALWAYS AS (
      setweight(to_tsvector('english', content), 'A') || setweight(to_tsvector('english', tags), 'B')
    ) STORED
  );
  CREATE INDEX reflections_owner ON reflections (owner, created_at DESC);
  CREATE INDEX reflections_search ON reflections USING GIN (search);
  CREATE TABLE reflection_tags (
    reflection_id TEXT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (reflection_id, tag)
  );

  CREATE TABLE project_messages (
    id TEXT COLLATE "C" PRIMARY KEY,
    from_project TEXT NOT NULL,
    to_project TEXT NOT NULL,
    content TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    received_from TEXT NOT NULL,
    signature TEXT NOT NULL UNIQUE
  );
  CREATE INDEX project_messages_to ON project_messages (to_project, received_at DESC);

  CREATE TABLE revocations (
    kind TEXT NOT NULL CHECK (kind IN ('token', 'subject')),
    value TEXT NOT NULL,
    issued_before BIGINT,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL,
    revoked_by TEXT NOT NULL,
    PRIMARY KEY (kind, value)
  );
  `,
];
