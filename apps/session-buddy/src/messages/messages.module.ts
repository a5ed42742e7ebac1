import { Module } from '@nestjs/common';
import { byEngine } from '@crossauth/storage';
import { STORAGE_ENGINE } from '../storage/storage-engine';
import { StorageModule } from '../storage/storage.module';
import { MessagesTools } from './messages.tools';
import { PostgresProjectMessageRepository } from './postgres-project-message.repository';
import { PROJECT_MESSAGE_REPOSITORY, type ProjectMessageRepository } from './project-message.repository';
import { SqliteProjectMessageRepository } from './sqlite-project-message.repository';

/** Signed messages between projects (the Python envelopes), each accepted once. */
@Module({
  imports: [StorageModule],
  providers: [
    byEngine<ProjectMessageRepository>(PROJECT_MESSAGE_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteProjectMessageRepository(db),
      postgres: (db) => new PostgresProjectMessageRepository(db),
    }),
    MessagesTools,
  ],
})
export class MessagesModule {}
