import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS, verificationKeyIds, type ResolvedAuthOptions } from '@crossauth/auth';
import { McpTool } from '@crossauth/mcp-server';
import { STORAGE_ENGINE, type StorageEngine } from '../storage/storage-engine';

const startedAt = Date.now();

/** Liveness, storage status, and the public key ids (so peers can spot a secret mismatch). */
@Injectable()
export class HealthTools {
  constructor(
    @Inject(STORAGE_ENGINE) private readonly storage: StorageEngine,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
  ) {}

  @McpTool({ name: 'health_check', description: 'Liveness and storage status.', public: true, annotations: { readOnlyHint: true } })
  async healthCheck() {
    const storage = await this.storage.health();
    return {
      status: storage.ok ? 'ok' : 'degraded',
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      storage,
      // Key ids are fingerprints, not secrets: comparing them is how two services
      // learn whether they share a secret without either showing it.
      auth: { mode: this.auth.mode, key_ids: verificationKeyIds(this.auth) },
    };
  }
}
