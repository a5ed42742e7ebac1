import { registerAs } from '@nestjs/config';
import { loadOrchestratorConfig } from './env.schema';

/** The one place the orchestrator reads the environment. */
export const orchestratorConfig = registerAs('orchestrator', () => loadOrchestratorConfig(process.env));
