import { registerAs } from '@nestjs/config';
import { loadSessionBuddyConfig } from './env.schema';

/**
 * The one place session-buddy reads the environment. Injected as
 * `@Inject(sessionBuddyConfig.KEY) config: SessionBuddyConfig`.
 */
export const sessionBuddyConfig = registerAs('sessionBuddy', () => loadSessionBuddyConfig(process.env));
