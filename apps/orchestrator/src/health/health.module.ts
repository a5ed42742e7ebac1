import { Module } from '@nestjs/common';
import { SharedStateModule } from '../shared-state/shared-state.module';
import { StorageModule } from '../storage/storage.module';
import { HealthController } from './health.controller';

/** Liveness and readiness probes. */
@Module({
  imports: [StorageModule, SharedStateModule],
  controllers: [HealthController],
})
export class HealthModule {}
