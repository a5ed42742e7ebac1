import type { Logger } from '@nestjs/common';

/**
 * What {@link migrate} needs from an engine. Versions are 1-based positions in
 * the engine's migration list.
 */
export interface MigrationTarget {
  /** Runs `fn` while no other process can migrate the same database. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** The highest applied version (0 for an empty database). */
  version(): Promise<number>;
  /** Applies one migration and records its version, in one transaction. */
  apply(version: number, sql: string): Promise<void>;
}

/**
 * The one migration mechanism of both stores: an ordered list of SQL scripts,
 * each applied once, in order, in its own transaction, under a lock the
 * engine provides, so two instances starting together neither both apply a
 * migration nor see a half-migrated schema. Resolves to the schema version.
 */
export async function migrate(target: MigrationTarget, migrations: readonly string[], logger: Logger): Promise<number> {
  return target.exclusive(async () => {
    const current = await target.version();
    if (current > migrations.length) {
      throw new Error(`the database is at schema version ${current}, newer than this build knows (${migrations.length}); run the newer release`);
    }
    for (let version = current + 1; version <= migrations.length; version++) {
      await target.apply(version, migrations[version - 1] as string);
      logger.log({ event: 'migration_applied', version });
    }
    return migrations.length;
  });
}
