import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { DatabaseEngine } from './open-database';
import type { PostgresDatabaseService } from './postgres/postgres-database.service';
import type { SqliteDatabaseService } from './sqlite/sqlite-database.service';

/** One repository per engine: the Nest provider of `provide`, built on the engine `engine` resolves to. */
export function byEngine<T>(
  provide: InjectionToken,
  engine: InjectionToken,
  make: { readonly sqlite: (db: SqliteDatabaseService) => T; readonly postgres: (db: PostgresDatabaseService) => T },
): FactoryProvider<T> {
  return { provide, inject: [engine], useFactory: (db: DatabaseEngine): T => (db.kind === 'postgres' ? make.postgres(db) : make.sqlite(db)) };
}
