import { Inject, Injectable, Logger } from '@nestjs/common';
import { CLIENT_METADATA_DEFAULTS, ClientMetadataError, SCOPES, fetchClientMetadataDocument, type ClientMetadataFetchOptions } from '@crossauth/auth';
import { LRUCache } from 'lru-cache';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import type { OAuthClientRecord } from './oauth-client.repository';

/** A metadata-document client, or why its document cannot be used. */
export type ResolvedClient = { readonly client: OAuthClientRecord } | { readonly refused: string };

/** How long a refused document is remembered, so a broken or hostile URL is not fetched on every request. */
const REFUSAL_TTL_MS = 10_000;

/**
 * Clients known by a Client ID Metadata Document: an https `client_id` is
 * fetched (with the guards of {@link fetchClientMetadataDocument}) and
 * cached per its Cache-Control, within 1 minute and 1 day, per instance.
 * Concurrent requests for one URL share one fetch. Such a client is public:
 * it may ask for any of this server's resources and scopes, and gets what
 * the person's role allows and the person approves.
 */
@Injectable()
export class ClientMetadataDocumentsService {
  private readonly logger = new Logger(ClientMetadataDocumentsService.name);
  private readonly cache = new LRUCache<string, ResolvedClient>({ max: 1000, ttl: CLIENT_METADATA_DEFAULTS.maxMaxAgeSeconds * 1000 });
  private readonly fetching = new Map<string, Promise<ResolvedClient>>();
  private readonly options: ClientMetadataFetchOptions;
  private readonly resources: readonly string[];

  constructor(@Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig) {
    this.options = { ...CLIENT_METADATA_DEFAULTS, allowLoopback: config.clientMetadata.allowLoopback };
    this.resources = [config.sessionBuddy.url, `${config.publicUrl}/mcp`];
  }

  get enabled(): boolean {
    return this.config.clientMetadata.enabled;
  }

  async resolve(url: string): Promise<ResolvedClient> {
    if (!this.enabled) return { refused: 'this server does not accept Client ID Metadata Documents' };
    const cached = this.cache.get(url);
    if (cached) return cached;
    const pending = this.fetching.get(url) ?? this.fetch(url).finally(() => this.fetching.delete(url));
    this.fetching.set(url, pending);
    return pending;
  }

  private async fetch(url: string): Promise<ResolvedClient> {
    try {
      const document = await fetchClientMetadataDocument(url, this.options);
      const resolved: ResolvedClient = {
        client: {
          id: url,
          name: document.clientName ?? null,
          allowedScopes: [...SCOPES],
          allowedResources: this.resources,
          secretHash: null,
          secretKeyId: null,
          jwks: null,
          redirectUris: document.redirectUris,
          createdAt: Date.now(),
          secretRotatedAt: null,
          dynamic: false,
          lastUsedAt: null,
        },
      };
      this.cache.set(url, resolved, { ttl: document.maxAgeSeconds * 1000 });
      this.logger.log({ event: 'client_metadata_fetched', client: url, cache_seconds: document.maxAgeSeconds });
      return resolved;
    } catch (error) {
      if (!(error instanceof ClientMetadataError)) throw error;
      this.logger.warn({ event: 'client_metadata_refused', client: url, reason: error.message });
      const refused: ResolvedClient = { refused: error.message };
      this.cache.set(url, refused, { ttl: REFUSAL_TTL_MS });
      return refused;
    }
  }
}
