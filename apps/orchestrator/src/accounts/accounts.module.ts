import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { AccountsService } from './accounts.service';
import { AccountsTools } from './accounts.tools';

/** Local accounts: the people who sign in with a password, and the admin tools that manage them. */
@Module({
  imports: [StorageModule],
  providers: [AccountsService, AccountsTools],
  exports: [AccountsService],
})
export class AccountsModule {}
