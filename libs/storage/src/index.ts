export { migrate, type MigrationTarget } from './lib/migrator';
export { SqliteDatabaseService } from './lib/sqlite-database.service';
export { PostgresDatabaseService, StorageUnavailableError, type PostgresSchema, type PostgresSettings } from './lib/postgres-database.service';
export { type StorageHealth } from './lib/storage-health';
export { openDatabase, type DatabaseEngine, type ServiceSchema } from './lib/open-database';
