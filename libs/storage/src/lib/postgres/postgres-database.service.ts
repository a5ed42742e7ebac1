import { Logger } from '@nestjs/common';
import { ToolError } from '@crossauth/mcp-server';
import { Pool, types, type PoolClient, type QueryResultRow } from 'pg';
import { createHash } from 'node:crypto';
import { migrate } from '../migrator';
import type { StorageHealth } from '../storage-health';

/** Connection settings; the URL carries a password and is never logged. */
export interface PostgresSettings {
  readonly url: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
}

/** Whose database this is: its migrations, and the setting to name in errors. */
export interface PostgresSchema {
  /** The service (`session-buddy`): names its migrations table and its lock, so services may share a database. */
  readonly name: string;
  readonly migrations: readonly string[];
  /** The variable that holds the URL, named (never the URL) when connecting fails. */
  readonly setting: string;
}

const INT8_OID = 20;

/**
 * Thrown for failures that say nothing about the request and pass when the
 * database is back: answered to callers as a retryable tool error.
 */
export class StorageUnavailableError extends ToolError {
  constructor(cause: string) {
    super(`storage is unavailable (${cause}); retry shortly`, 'storage_unavailable');
  }
}

// SQLSTATE classes and codes that mean "the database, not the request": connection
// exceptions (08), shutdowns and start-ups (57P0x), too many connections, and a
// statement timeout (57014: the database is too slow right now).
const UNAVAILABLE_SQLSTATE = /^(08|57P0|53300|57014)/;

function unavailableCause(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && UNAVAILABLE_SQLSTATE.test(e.code)) return e.code === '57014' ? 'statement timeout' : `PostgreSQL ${e.code}`;
  if (typeof e.code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(e.code)) return 'PostgreSQL unreachable';
  if (
    typeof e.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message)
  ) {
    return 'PostgreSQL unreachable';
  }
  return undefined;
}

/**
 * A service's data on PostgreSQL: a bounded pool with a statement timeout on
 * every connection. A lost database makes calls fail with
 * {@link StorageUnavailableError}; the pool reconnects by itself once it is back.
 */
export class PostgresDatabaseService {
  readonly kind = 'postgres';
  private static readonly logger = new Logger(PostgresDatabaseService.name);

  private readonly migrationsTable: string;
  private readonly lockKey: string;

  private constructor(
    readonly pool: Pool,
    private readonly schema: PostgresSchema,
  ) {
    this.migrationsTable = `schema_migrations_${schema.name.replace(/[^a-z0-9]/g, '_')}`;
    // Any 64-bit key, as long as every instance of this service uses the same one.
    this.lockKey = createHash('sha256').update(`crossauth/migrations/${schema.name}`).digest().readBigInt64BE().toString();
  }

  /** Connects and migrates, retrying while the database is starting or unreachable, for up to `waitMs`. */
  static async connect(settings: PostgresSettings, schema: PostgresSchema, waitMs = 30_000): Promise<PostgresDatabaseService> {
    const pool = new Pool({
      connectionString: settings.url,
      max: settings.poolSize,
      statement_timeout: settings.statementTimeoutMs,
      // A pool waiting longer than a statement may run would only hide an outage.
      connectionTimeoutMillis: Math.max(1000, settings.statementTimeoutMs),
      idleTimeoutMillis: 30_000,
      application_name: schema.name,
      // Times and counts are BIGINT; every value stored fits a double exactly.
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === INT8_OID ? Number : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
      },
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', (error) => PostgresDatabaseService.logger.warn({ event: 'postgres_idle_client_error', cause: unavailableCause(error) ?? error.message }));
    const service = new PostgresDatabaseService(pool, schema);
    const deadline = Date.now() + waitMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await service.migrate();
        return service;
      } catch (error) {
        const cause = unavailableCause(error);
        if (!cause || Date.now() > deadline) {
          await pool.end().catch(() => undefined);
          throw new Error(`PostgreSQL (${schema.setting}): ${cause ?? (error instanceof Error ? error.message : String(error))}`);
        }
        PostgresDatabaseService.logger.warn({ event: 'postgres_waiting', attempt, cause });
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * attempt)));
      }
    }
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migrate(
        {
          exclusive: async (fn) => {
            await client.query('SELECT pg_advisory_lock($1)', [this.lockKey]);
            try {
              return await fn();
            } finally {
              await client.query('SELECT pg_advisory_unlock($1)', [this.lockKey]);
            }
          },
          version: async () => {
            await client.query(
              `CREATE TABLE IF NOT EXISTS ${this.migrationsTable} (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
            );
            const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${this.migrationsTable}`);
            return rows[0]?.v ?? 0;
          },
          apply: (version, sql) =>
            this.transaction(async (tx) => {
              await tx.query(sql);
              await tx.query(`INSERT INTO ${this.migrationsTable} (version) VALUES ($1)`, [version]);
            }, client),
        },
        this.schema.migrations,
        PostgresDatabaseService.logger,
      );
    } finally {
      client.release();
    }
  }

  /** One statement; database outages become {@link StorageUnavailableError}. */
  async query<R extends QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
    try {
      const result = await this.pool.query<R>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw translate(error);
    }
  }

  /** Runs `fn` in one transaction on one connection; rolls back on any error. */
  async transaction<T>(fn: (tx: PoolClient) => Promise<T>, client?: PoolClient): Promise<T> {
    let own: PoolClient | undefined;
    try {
      const tx = client ?? (own = await this.pool.connect());
      await tx.query('BEGIN');
      try {
        const result = await fn(tx);
        await tx.query('COMMIT');
        return result;
      } catch (error) {
        await tx.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } catch (error) {
      throw translate(error);
    } finally {
      own?.release();
    }
  }

  async health(): Promise<StorageHealth> {
    try {
      const { rows } = await this.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${this.migrationsTable}`);
      return {
        ok: true,
        engine: 'postgres',
        schemaVersion: rows[0]?.v ?? 0,
        detail: { pool: { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount } },
      };
    } catch (error) {
      return { ok: false, engine: 'postgres', schemaVersion: 0, detail: { error: unavailableCause(error) ?? 'query failed' } };
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function translate(error: unknown): unknown {
  if (error instanceof StorageUnavailableError) return error;
  const cause = unavailableCause(error);
  return cause ? new StorageUnavailableError(cause) : error;
}
