import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { AccountsService } from './accounts.service';
import { AccountsTools } from './accounts.tools';
import { FirstAccountController } from './first-account.controller';
import { FirstAccountService } from './first-account.service';

/** Local accounts: the people who sign in with a password, the admin tools that manage them, and the first account's one-time link. */
@Module({
  imports: [StorageModule],
  controllers: [FirstAccountController],
  providers: [AccountsService, AccountsTools, FirstAccountService],
  exports: [AccountsService],
})
export class AccountsModule {}
