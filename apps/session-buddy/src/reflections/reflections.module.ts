import { Module } from '@nestjs/common';
import { byEngine } from '@crossauth/storage';
import { STORAGE_ENGINE } from '../storage/storage-engine';
import { StorageModule } from '../storage/storage.module';
import { PostgresReflectionRepository } from './postgres-reflection.repository';
import { REFLECTION_REPOSITORY, type ReflectionRepository } from './reflection.repository';
import { ReflectionsTools } from './reflections.tools';
import { SqliteReflectionRepository } from './sqlite-reflection.repository';

/** Lessons learned per owner and project: storing and searching them. */
@Module({
  imports: [StorageModule],
  providers: [
    byEngine<ReflectionRepository>(REFLECTION_REPOSITORY, STORAGE_ENGINE, {
      sqlite: (db) => new SqliteReflectionRepository(db),
      postgres: (db) => new PostgresReflectionRepository(db),
    }),
    ReflectionsTools,
  ],
})
export class ReflectionsModule {}
