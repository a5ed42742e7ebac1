import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { JwksKeySource, TrustedIssuers } from '@crossauth/auth';
import type { SessionBuddyConfig } from '../config/env.schema';
import { sessionBuddyConfig } from '../config/session-buddy.config';

/** DI token of the issuer's JWKS key source, or null when `SESSION_BUDDY_JWKS_URL` is not set. */
export const ISSUER_KEYS = Symbol('session-buddy:issuer-keys');
/** DI token of the trusted outside issuers, or null when `SESSION_BUDDY_TRUST_FILE` is not set. */
export const TRUSTED_ISSUERS = Symbol('session-buddy:trusted-issuers');

/**
 * The keys tokens are verified with: the authorization server's published
 * keys, for its EdDSA/ES256 tokens, and the trust file's outside issuers.
 * First fetches are awaited at start-up (bounded by their timeouts); an
 * issuer that is not up yet does not stop the service, which keeps trying on
 * schedule. A trust file that does not parse does stop it, with the reason.
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
    {
      provide: TRUSTED_ISSUERS,
      inject: [sessionBuddyConfig.KEY],
      useFactory: async (c: SessionBuddyConfig): Promise<TrustedIssuers | null> => {
        if (!c.auth.trust) return null;
        const trust = await TrustedIssuers.fromFile(c.auth.trust.file, {
          allowLoopbackHttp: c.auth.trust.allowLoopbackHttp,
          loopbackHttpSetting: 'SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP',
          ownIssuers: c.auth.allowedIssuers,
        });
        trust.reloadOn(c.auth.trust.file);
        return trust;
      },
    },
  ],
  exports: [ISSUER_KEYS, TRUSTED_ISSUERS],
})
export class IssuerKeysModule implements OnApplicationShutdown {
  constructor(
    @Inject(ISSUER_KEYS) private readonly keys: JwksKeySource | null,
    @Inject(TRUSTED_ISSUERS) private readonly trust: TrustedIssuers | null,
  ) {}

  onApplicationShutdown(): void {
    this.keys?.stop();
    this.trust?.stop();
  }
}
