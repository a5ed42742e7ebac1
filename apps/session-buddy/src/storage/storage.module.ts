import { Module } from '@nestjs/common';
import { SqliteRevocationStore } from '../revocation/sqlite-revocation.store';
import { DatabaseService } from './database.service';

/** The database and what the auth layer needs from it (revocations), for injection into AuthModule. */
@Module({
  providers: [DatabaseService, SqliteRevocationStore],
  exports: [DatabaseService, SqliteRevocationStore],
})
export class StorageModule {}
