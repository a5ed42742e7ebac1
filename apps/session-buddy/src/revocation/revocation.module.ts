import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { RevocationTools } from './revocation.tools';

/** The admin tools that revoke a token or every token of a subject. */
@Module({
  imports: [StorageModule],
  providers: [RevocationTools],
})
export class RevocationModule {}
