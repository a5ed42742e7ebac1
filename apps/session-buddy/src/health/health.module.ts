import { Module } from '@nestjs/common';
import { IssuerKeysModule } from '../issuer-keys/issuer-keys.module';
import { StorageModule } from '../storage/storage.module';
import { HealthController } from './health.controller';
import { HealthTools } from './health.tools';

/** Liveness and readiness: the probes and the public health_check tool. */
@Module({
  imports: [StorageModule, IssuerKeysModule],
  controllers: [HealthController],
  providers: [HealthTools],
})
export class HealthModule {}
