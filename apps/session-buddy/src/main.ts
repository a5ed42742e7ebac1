import 'reflect-metadata';
import { startMcpApplication } from '@crossauth/mcp-server';
import { AppModule } from './app.module';
import type { SessionBuddyConfig } from './config/env.schema';
import { sessionBuddyConfig } from './config/session-buddy.config';

startMcpApplication(AppModule, (app) => app.get<SessionBuddyConfig>(sessionBuddyConfig.KEY)).catch((error: unknown) => {
  // Configuration errors name the variable and rule only; print them plainly.
  process.stderr.write(`session-buddy failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
