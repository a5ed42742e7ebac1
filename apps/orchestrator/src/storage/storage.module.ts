import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { PersistentRevocationStore, byEngine, openDatabase, openRevocationStore, type DatabaseEngine } from '@crossauth/storage';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { PostgresUserRepository } from '../accounts/postgres-user.repository';
import { SqliteUserRepository } from '../accounts/sqlite-user.repository';
import { USER_REPOSITORY, type UserRepository } from '../accounts/user.repository';
import { AUTHORIZATION_CODE_REPOSITORY, type AuthorizationCodeRepository } from '../oauth/authorization-code.repository';
import { GRANT_REPOSITORY, type GrantRepository } from '../oauth/grant.repository';
import { OAUTH_CLIENT_REPOSITORY, type OAuthClientRepository } from '../oauth/oauth-client.repository';
import { PostgresGrantRepository } from '../oauth/postgres-grant.repository';
import { SqliteGrantRepository } from '../oauth/sqlite-grant.repository';
import { PostgresAuthorizationCodeRepository } from '../oauth/postgres-authorization-code.repository';
import { SqliteAuthorizationCodeRepository } from '../oauth/sqlite-authorization-code.repository';
import { PostgresOAuthClientRepository } from '../oauth/postgres-oauth-client.repository';
import { PostgresRevocationOutboxRepository } from '../oauth/postgres-revocation-outbox.repository';
import { REVOCATION_OUTBOX_REPOSITORY, type RevocationOutboxRepository } from '../oauth/revocation-outbox.repository';
import { SqliteOAuthClientRepository } from '../oauth/sqlite-oauth-client.repository';
import { SqliteRevocationOutboxRepository } from '../oauth/sqlite-revocation-outbox.repository';
import { REDIS_CONNECTION, SharedStateModule } from '../shared-state/shared-state.module';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './orchestrator-migrations';
import { SUBJECT_NAMES, subjectNames } from './subject-names';

/** DI token of the orchestrator's database engine (for health checks). */
export const STORAGE_ENGINE = Symbol('orchestrator:storage-engine');

/**
 * The orchestrator's store: registered OAuth clients, local accounts, authorization
 * codes, people's grants and refresh tokens, the revocations of
 * what it granted, which its own verifier consults, and the revocations it
 * still owes session-buddy (PostgreSQL when
 * `ORCHESTRATOR_DATABASE_URL` is set, SQLite otherwise; revocations fanned out
 * over Redis when configured).
 */
@Module({
  imports: [SharedStateModule],
  providers: [
    {
      provide: STORAGE_ENGINE,
      inject: [orchestratorConfig.KEY],
      useFactory: (c: OrchestratorConfig) =>
        openDatabase(c, { name: 'orchestrator', setting: 'ORCHESTRATOR_DATABASE_URL', sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }),
    },
    byEngine<OAuthClientRepository>(OAUTH_CLIENT_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteOAuthClientRepository(db),
      postgres: (db) => new PostgresOAuthClientRepository(db),
    }),
    byEngine<UserRepository>(USER_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteUserRepository(db),
      postgres: (db) => new PostgresUserRepository(db),
    }),
    byEngine<AuthorizationCodeRepository>(AUTHORIZATION_CODE_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteAuthorizationCodeRepository(db),
      postgres: (db) => new PostgresAuthorizationCodeRepository(db),
    }),
    byEngine<GrantRepository>(GRANT_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteGrantRepository(db),
      postgres: (db) => new PostgresGrantRepository(db),
    }),
    { provide: SUBJECT_NAMES, inject: [OAUTH_CLIENT_REPOSITORY, USER_REPOSITORY], useFactory: subjectNames },
    byEngine<RevocationOutboxRepository>(REVOCATION_OUTBOX_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteRevocationOutboxRepository(db),
      postgres: (db) => new PostgresRevocationOutboxRepository(db),
    }),
    {
      provide: PersistentRevocationStore,
      inject: [STORAGE_ENGINE, REDIS_CONNECTION],
      useFactory: openRevocationStore,
    },
  ],
  exports: [
    OAUTH_CLIENT_REPOSITORY,
    USER_REPOSITORY,
    AUTHORIZATION_CODE_REPOSITORY,
    GRANT_REPOSITORY,
    SUBJECT_NAMES,
    REVOCATION_OUTBOX_REPOSITORY,
    PersistentRevocationStore,
    STORAGE_ENGINE,
  ],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(
    @Inject(STORAGE_ENGINE) private readonly engine: DatabaseEngine,
    private readonly revocations: PersistentRevocationStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.revocations.close();
    await this.engine.close();
  }
}
