import 'reflect-metadata';
import { startMcpApplication } from '@crossauth/mcp-server';
import { AppModule } from './app.module';
import type { OrchestratorConfig } from './config/env.schema';
import { orchestratorConfig } from './config/orchestrator.config';

startMcpApplication(AppModule, (app) => app.get<OrchestratorConfig>(orchestratorConfig.KEY)).catch((error: unknown) => {
  // Configuration errors name the variable and rule only; print them plainly.
  process.stderr.write(`orchestrator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
