import { Module } from '@nestjs/common';
import { byEngine } from '@crossauth/storage';
import { STORAGE_ENGINE } from '../storage/storage-engine';
import { StorageModule } from '../storage/storage.module';
import { PostgresSessionRepository } from './postgres-session.repository';
import { SESSION_REPOSITORY, type SessionRepository } from './session.repository';
import { SessionsTools } from './sessions.tools';
import { SqliteSessionRepository } from './sqlite-session.repository';

/** Work sessions per project and owner: the start, checkpoint, end and status tools. */
@Module({
  imports: [StorageModule],
  providers: [
    byEngine<SessionRepository>(SESSION_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteSessionRepository(db),
      postgres: (db) => new PostgresSessionRepository(db),
    }),
    SessionsTools,
  ],
})
export class SessionsModule {}
