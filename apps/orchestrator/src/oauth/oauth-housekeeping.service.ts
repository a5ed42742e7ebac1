import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuthorizationCodesService } from './authorization-codes.service';
import { ClientRegistrationService } from './client-registration.service';
import { GrantsService } from './grants.service';

const EVERY_MS = 3_600_000;

/** Forgets what can no longer be used: codes long expired, grants ended a day ago, self-registered clients long unused. Hourly, on every instance (the deletes are idempotent). */
@Injectable()
export class OAuthHousekeepingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OAuthHousekeepingService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly codes: AuthorizationCodesService,
    private readonly grants: GrantsService,
    private readonly registration: ClientRegistrationService,
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
      const clients = await this.registration.removeUnused((id) => this.grants.revoke({ clientId: id }, 'oauth_client_expired'));
      if (codes || grants || clients.length) this.logger.log({ event: 'oauth_pruned', codes, grants, clients: clients.length });
    } catch (error) {
      this.logger.warn({ event: 'oauth_prune_failed', reason: error instanceof Error ? error.message : String(error) });
    }
  }
}
