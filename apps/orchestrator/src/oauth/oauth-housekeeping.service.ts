import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuthorizationCodesService } from './authorization-codes.service';
import { GrantsService } from './grants.service';

const EVERY_MS = 3_600_000;

/** Forgets what can no longer be used: codes long expired, grants ended a day ago. Hourly, on every instance (the deletes are idempotent). */
@Injectable()
export class OAuthHousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OAuthHousekeepingService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly codes: AuthorizationCodesService,
    private readonly grants: GrantsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    try {
      const [codes, grants] = await Promise.all([this.codes.prune(), this.grants.prune()]);
      if (codes || grants) this.logger.log({ event: 'oauth_pruned', codes, grants });
    } catch (error) {
      this.logger.warn({ event: 'oauth_prune_failed', reason: error instanceof Error ? error.message : String(error) });
    }
  }
}
