import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { PersistentRevocationStore } from '@crossauth/storage';
import { AuthModule, RedisFailureThrottleStore, RedisNonceStore, type FileSigningKeys, type RedisConnection } from '@crossauth/auth';
import { AuthDiagnosticsTools, McpServerModule, OAUTH_CLIENT_CREDENTIALS_EXTENSION, RedisMcpSessionStore, resourceMetadataUrlFor } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from './config/env.schema';
import { orchestratorConfig, secretReload } from './config/orchestrator.config';
import { HealthController } from './health/health.controller';
import { AuthorizationServerMetadataController } from './oauth/authorization-server-metadata.controller';
import { GrantRevocationService } from './oauth/grant-revocation.service';
import { RevocationOutboxService } from './oauth/revocation-outbox.service';
import { ASSERTION_MAX_LIFETIME_SECONDS, OAuthClientsService } from './oauth/oauth-clients.service';
import { OAuthClientsTools } from './oauth/oauth-clients.tools';
import { TokenController } from './oauth/token.controller';
import { TokenExchangeService } from './oauth/token-exchange.service';
import { JwksController } from './signing-keys/jwks.controller';
import { SIGNING_KEYS, SigningKeysModule } from './signing-keys/signing-keys.module';
import { SigningKeysTools } from './signing-keys/signing-keys.tools';
import { REDIS_CONNECTION, SharedStateModule } from './shared-state/shared-state.module';
import { StorageModule } from './storage/storage.module';
import { DownstreamTokenCache } from './session-buddy-client/downstream-token.cache';
import { SessionBuddyClient } from './session-buddy-client/session-buddy.client';
import { TokenEndpointClient } from './session-buddy-client/token-endpoint.client';
import { DiagnosticsTools } from './workflows/diagnostics.tools';
import { WorkflowTools } from './workflows/workflow.tools';

const mcpUrl = (c: OrchestratorConfig) => `${c.publicUrl}/mcp`;

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, envFilePath: ['.env'], load: [orchestratorConfig] }),
    SharedStateModule,
    StorageModule,
    SigningKeysModule,
    AuthModule.forRootAsync({
      isGlobal: true,
      imports: [SharedStateModule, StorageModule, SigningKeysModule],
      inject: [orchestratorConfig.KEY, REDIS_CONNECTION, PersistentRevocationStore, SIGNING_KEYS],
      useFactory: (c: OrchestratorConfig, redis: RedisConnection | null, revocations: PersistentRevocationStore, signingKeys: FileSigningKeys | null) => ({
        // EdDSA/ES256: tokens are signed with the key set and verified with its public keys; the secret still verifies HS256 callers.
        signingKeys: signingKeys ?? undefined,
        ed25519AlgorithmName: c.signing.ed25519Name,
        // What this server granted and then revoked is refused here too.
        revocationStore: revocations,
        mode: c.auth.mode,
        secret: c.auth.secret,
        secretName: 'ORCHESTRATOR_AUTH_SECRET',
        previousSecrets: c.auth.previousSecrets,
        issuer: c.auth.issuer,
        allowedIssuers: c.auth.allowedIssuers,
        legacyIssuers: c.auth.legacyIssuers,
        audiences: [c.auth.audience, mcpUrl(c)],
        clockSkewSeconds: c.auth.clockSkewSeconds,
        accessTokenTtlSeconds: c.sessionBuddy.tokenTtlSeconds,
        resourceMetadataUrl: resourceMetadataUrlFor(mcpUrl(c)),
        // With Redis, replays and failure counts are the deployment's, not each instance's.
        // The longest-lived nonce here is a client assertion's jti: its lifetime cap plus the skew, twice.
        nonceStore: redis ? new RedisNonceStore(redis.client, { lossGuardMs: (ASSERTION_MAX_LIFETIME_SECONDS + 2 * c.auth.clockSkewSeconds) * 1000 }) : undefined,
        failureThrottleStore: redis ? (rule) => new RedisFailureThrottleStore(redis, rule) : undefined,
      }),
    }),
    McpServerModule.forRootAsync({
      imports: [SharedStateModule],
      inject: [orchestratorConfig.KEY, REDIS_CONNECTION],
      useFactory: (c: OrchestratorConfig, redis: RedisConnection | null) => ({
        name: 'orchestrator',
        version: '0.1.0',
        resourceUrl: mcpUrl(c),
        resourceName: 'orchestrator: project workflows over session-buddy',
        authorizationServers: [c.auth.issuer],
        stateless: c.stateless,
        modernProtocol: c.modernProtocol,
        maxBodyBytes: c.bodyLimit,
        sessionStore: redis ? new RedisMcpSessionStore(redis) : undefined,
        // This server is its own authorization server, and grants client credentials to machines.
        extensions: { [OAUTH_CLIENT_CREDENTIALS_EXTENSION]: {} },
      }),
    }),
  ],
  controllers: [AuthorizationServerMetadataController, TokenController, JwksController, HealthController],
  providers: [secretReload, TokenExchangeService, TokenEndpointClient, SigningKeysTools, AuthDiagnosticsTools, DownstreamTokenCache, SessionBuddyClient, WorkflowTools, DiagnosticsTools, OAuthClientsService, OAuthClientsTools, GrantRevocationService, RevocationOutboxService],
})
export class AppModule {}
