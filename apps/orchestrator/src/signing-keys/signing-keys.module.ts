import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { AuthConfigError, FileSigningKeys, privateSigningKeyFromText, type PrivateSigningKey } from '@crossauth/auth';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { JwksController } from './jwks.controller';
import { SIGNING_KEYS } from './signing-keys.constants';
import { SigningKeysTools } from './signing-keys.tools';

const logger = new Logger('SigningKeys');

/** The operator's key file, checked against the configured algorithm. Errors name the variable, never the key. */
function providedKey(path: string, alg: 'EdDSA' | 'ES256'): PrivateSigningKey {
  let key: PrivateSigningKey;
  try {
    key = privateSigningKeyFromText(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AuthConfigError(
      `ORCHESTRATOR_SIGNING_KEY_FILE: ${error instanceof Error && !/ENOENT|EACCES/.test(error.message) ? error.message : 'the file cannot be read'}`,
    );
  }
  if (key.alg !== alg) throw new AuthConfigError(`ORCHESTRATOR_SIGNING_KEY_FILE holds an ${key.alg} key but ORCHESTRATOR_SIGNING_ALG is ${alg}`);
  return key;
}

/**
 * The key set behind `ORCHESTRATOR_SIGNING_ALG=Ed25519|EdDSA|ES256`: read from (or, at
 * first start, created in) the keys file, and re-read when another instance
 * or an operator rotates it; the JWKS that publishes them and the tools
 * that show and rotate them.
 */
@Module({
  controllers: [JwksController],
  providers: [
    SigningKeysTools,
    {
      provide: SIGNING_KEYS,
      inject: [orchestratorConfig.KEY],
      useFactory: (c: OrchestratorConfig): FileSigningKeys | null => {
        if (c.signing.alg === 'HS256') return null;
        const keys = FileSigningKeys.openOrCreate(
          c.signing.keysFile,
          c.signing.alg,
          c.signing,
          c.signing.keyFile ? providedKey(c.signing.keyFile, c.signing.alg) : undefined,
        );
        keys.watch();
        if (keys.current.alg !== c.signing.alg) {
          logger.warn({
            event: 'signing_alg_differs',
            configured: c.signing.alg,
            current: keys.current.alg,
            hint: 'crossauth keys rotate switches to the configured algorithm',
          });
        }
        logger.log({ event: 'signing_keys_loaded', alg: keys.current.alg, signingKeyId: keys.current.kid, published: keys.keyIds });
        return keys;
      },
    },
  ],
  exports: [SIGNING_KEYS],
})
export class SigningKeysModule implements OnApplicationShutdown {
  constructor(@Inject(SIGNING_KEYS) private readonly keys: FileSigningKeys | null) {}

  onApplicationShutdown(): void {
    this.keys?.stop();
  }
}
