/** What health checks report about a database. */
export interface StorageHealth {
  readonly ok: boolean;
  readonly engine: 'sqlite' | 'postgres';
  readonly schemaVersion: number;
  readonly detail?: Record<string, unknown>;
}
