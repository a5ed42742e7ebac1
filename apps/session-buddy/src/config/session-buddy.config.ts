import { provideSecretReload } from '@crossauth/auth';
import { registerAs } from '@nestjs/config';
import { loadSessionBuddyConfig } from './env.schema';

/**
 * The one place session-buddy reads the environment. Injected as
 * `@Inject(sessionBuddyConfig.KEY) config: SessionBuddyConfig`.
 */
export const sessionBuddyConfig = registerAs('sessionBuddy', () => loadSessionBuddyConfig(process.env));

/**
 * SIGHUP re-reads the secrets (rewrite the `*_FILE` files, then signal) and
 * rotates keys without a restart.
 */
export const secretReload = provideSecretReload(() => {
  const auth = loadSessionBuddyConfig(process.env).auth;
  return { secret: auth.secret, previous: auth.previousSecrets };
}, 'SESSION_BUDDY_SECRET');
