import { provideSecretReload } from '@crossauth/auth';
import { registerAs } from '@nestjs/config';
import { loadOrchestratorConfig } from './env.schema';

/** The one place the orchestrator reads the environment. */
export const orchestratorConfig = registerAs('orchestrator', () => loadOrchestratorConfig(process.env));

/**
 * SIGHUP re-reads the secrets (rewrite the `*_FILE` files, then signal) and
 * rotates keys without a restart.
 */
export const secretReload = provideSecretReload(() => {
  const auth = loadOrchestratorConfig(process.env).auth;
  return { secret: auth.secret, previous: auth.previousSecrets };
}, 'ORCHESTRATOR_AUTH_SECRET');
