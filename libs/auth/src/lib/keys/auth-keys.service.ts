import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthConfigError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import { TokenVerifierService } from '../tokens/token-verifier.service';
import { KeyRing } from './key-ring';
import { assertAcceptableSecret } from './secret-policy';

/** Secrets as re-read from configuration. */
export interface SecretSet {
  readonly secret: string | undefined;
  readonly previous: readonly string[];
}

/**
 * Zero-downtime rotation: swaps the key ring in place (new current key,
 * previous keys still verifying) and drops cached verifications so a removed
 * key stops working at once.
 */
@Injectable()
export class AuthKeysService implements OnModuleDestroy {
  private readonly logger = new Logger('AuthKeys');
  private detach: (() => void) | undefined;

  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly verifier: TokenVerifierService,
  ) {}

  /** Installs new secrets; throws {@link AuthConfigError} (naming the rule, never the value) and keeps the old ones on a bad set. */
  rotate(next: SecretSet, secretName = 'auth secret'): readonly string[] {
    if (this.options.mode === 'disabled') throw new AuthConfigError('auth is disabled; there are no keys to rotate');
    if (!next.secret) throw new AuthConfigError(`${secretName} is required`);
    assertAcceptableSecret(secretName, next.secret);
    next.previous.forEach((s, i) => assertAcceptableSecret(`${secretName} (previous #${i + 1})`, s));
    const ring = new KeyRing(next.secret, next.previous);
    this.options.keyRing = ring;
    this.verifier.evict(() => true);
    this.logger.warn({ event: 'keys_rotated', keyIds: ring.keyIds, signingKeyId: ring.current.kid });
    return ring.keyIds;
  }

  /**
   * Re-reads secrets on `signal` (default SIGHUP) and rotates. A bad new set
   * is logged and ignored: the service keeps running on the keys it had.
   */
  reloadOn(read: () => SecretSet, secretName: string, signal: NodeJS.Signals = 'SIGHUP'): void {
    const handler = () => {
      try {
        this.rotate(read(), secretName);
      } catch (error) {
        this.logger.error({ event: 'keys_rotation_refused', error: error instanceof Error ? error.message : String(error) });
      }
    };
    process.on(signal, handler);
    this.detach = () => process.off(signal, handler);
  }

  onModuleDestroy(): void {
    this.detach?.();
  }
}

/**
 * A provider that rotates keys on SIGHUP using `read` (the app's own config
 * loader, which re-reads `*_FILE` secrets). Add it to the app's providers.
 */
export function provideSecretReload(
  read: () => SecretSet,
  secretName: string,
): { provide: symbol; inject: [typeof AuthKeysService]; useFactory: (keys: AuthKeysService) => true } {
  return {
    provide: Symbol(`crossauth:secret-reload:${secretName}`),
    inject: [AuthKeysService],
    useFactory: (keys: AuthKeysService) => {
      keys.reloadOn(read, secretName);
      return true;
    },
  };
}
