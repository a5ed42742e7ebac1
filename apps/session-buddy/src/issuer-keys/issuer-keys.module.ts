import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { JwksKeySource } from '@crossauth/auth';
import type { SessionBuddyConfig } from '../config/env.schema';
import { sessionBuddyConfig } from '../config/session-buddy.config';

/** DI token of the issuer's JWKS key source, or null when `SESSION_BUDDY_JWKS_URL` is not set. */
export const ISSUER_KEYS = Symbol('session-buddy:issuer-keys');

/**
 * The authorization server's published keys, for verifying its EdDSA/ES256
 * tokens. The first fetch is awaited at start-up (bounded by its timeout);
 * if the issuer is not up yet, the service starts anyway, reports not ready,
 * and keeps trying on schedule.
 */
@Module({
  providers: [
    {
      provide: ISSUER_KEYS,
      inject: [sessionBuddyConfig.KEY],
      useFactory: async (c: SessionBuddyConfig): Promise<JwksKeySource | null> => {
        if (!c.auth.jwks) return null;
        const source = new JwksKeySource(c.auth.jwks);
        await source.start();
        return source;
      },
    },
  ],
  exports: [ISSUER_KEYS],
})
export class IssuerKeysModule implements OnApplicationShutdown {
  constructor(@Inject(ISSUER_KEYS) private readonly keys: JwksKeySource | null) {}

  onApplicationShutdown(): void {
    this.keys?.stop();
  }
}
