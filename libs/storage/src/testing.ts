/**
 * Test helpers: the engines a repository spec runs on. SQLite always, in a
 * fresh directory; PostgreSQL when CROSSAUTH_TEST_DATABASE_URL is set (npm
 * test sets it when the server is installed), in a schema of its own that
 * cleanup drops. Never import from production code.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DatabaseEngine } from './lib/open-database';
import { PostgresDatabaseService } from './lib/postgres/postgres-database.service';
import { SqliteDatabaseService } from './lib/sqlite/sqlite-database.service';

export interface TestEngine {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** A connection to this engine's database, migrated; later calls reach the same data (a restart, or a second instance). */
  open(): Promise<DatabaseEngine>;
  /** Removes what {@link open} created. */
  cleanup(): Promise<void>;
}

const DATABASE_URL = 'CROSSAUTH_TEST_DATABASE_URL';

function sqlite(service: string, migrations: readonly string[]): TestEngine {
  const dir = mkdtempSync(join(tmpdir(), `${service}-spec-`));
  return { name: 'SQLite', open: () => SqliteDatabaseService.open(dir, service, migrations), cleanup: async () => undefined };
}

/** Runs one statement on its own connection as the database's owner: a test's or bench's schema of its own, created and dropped. */
export async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function postgres(baseUrl: string, service: string, migrations: readonly string[], poolSize: number): TestEngine {
  const schema = `spec_${randomUUID().replace(/-/g, '')}`;
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const admin = (sql: string) => adminQuery(baseUrl, sql);
  let created: Promise<void> | undefined;
  return {
    name: 'PostgreSQL',
    open: async () => {
      created ??= admin(`CREATE SCHEMA ${schema}`);
      await created;
      return PostgresDatabaseService.connect(
        { url: url.toString(), poolSize, statementTimeoutMs: 5000 },
        { name: service, migrations, setting: DATABASE_URL },
        0,
      );
    },
    cleanup: async () => {
      if (created) await admin(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

/**
 * The engines to run a spec on. Without a PostgreSQL URL it says so once on
 * stderr, so a green run without PostgreSQL is not mistaken for one with it.
 */
export function testEngines(
  service: string,
  migrations: { readonly sqlite: readonly string[]; readonly postgres: readonly string[] },
  poolSize = 2,
): TestEngine[] {
  const url = process.env[DATABASE_URL];
  if (!url) process.stderr.write(`${service} specs: PostgreSQL skipped (${DATABASE_URL} is not set)\n`);
  return [sqlite(service, migrations.sqlite), ...(url ? [postgres(url, service, migrations.postgres, poolSize)] : [])];
}
