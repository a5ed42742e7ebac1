import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { PersistentRevocationStore, type SharedStores } from '@crossauth/storage';
import { AuthModule, type FileSigningKeys } from '@crossauth/auth';
import { AuthDiagnosticsTools, McpServerModule, OAUTH_CLIENT_CREDENTIALS_EXTENSION, resourceMetadataUrlFor } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from './config/env.schema';
import { orchestratorConfig, secretReload } from './config/orchestrator.config';
import { HealthController } from './health/health.controller';
import { AuthorizationServerMetadataController } from './oauth/authorization-server-metadata.controller';
import { GrantRevocationService } from './oauth/grant-revocation.service';
import { RevocationOutboxService } from './oauth/revocation-outbox.service';
import { OAuthClientsService } from './oauth/oauth-clients.service';
import { OAuthClientsTools } from './oauth/oauth-clients.tools';
import { TokenController } from './oauth/token.controller';
import { JwksController } from './signing-keys/jwks.controller';
import { SIGNING_KEYS, SigningKeysModule } from './signing-keys/signing-keys.module';
import { SigningKeysTools } from './signing-keys/signing-keys.tools';
import { SHARED_STORES, SharedStateModule } from './shared-state/shared-state.module';
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
      inject: [orchestratorConfig.KEY, SHARED_STORES, PersistentRevocationStore, SIGNING_KEYS],
      useFactory: (c: OrchestratorConfig, shared: SharedStores, revocations: PersistentRevocationStore, signingKeys: FileSigningKeys | null) => ({
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
        nonceStore: shared.nonceStore,
        failureThrottleStore: shared.failureThrottleStore,
      }),
    }),
    McpServerModule.forRootAsync({
      imports: [SharedStateModule],
      inject: [orchestratorConfig.KEY, SHARED_STORES],
      useFactory: (c: OrchestratorConfig, shared: SharedStores) => ({
        name: 'orchestrator',
        version: '0.1.0',
        resourceUrl: mcpUrl(c),
        resourceName: 'orchestrator: project workflows over session-buddy',
        authorizationServers: [c.auth.issuer],
        stateless: c.stateless,
        modernProtocol: c.modernProtocol,
        maxBodyBytes: c.bodyLimit,
        sessionStore: shared.sessionStore,
        // This server is its own authorization server, and grants client credentials to machines.
        extensions: { [OAUTH_CLIENT_CREDENTIALS_EXTENSION]: {} },
      }),
    }),
  ],
  controllers: [AuthorizationServerMetadataController, TokenController, JwksController, HealthController],
  providers: [secretReload, TokenEndpointClient, SigningKeysTools, AuthDiagnosticsTools, DownstreamTokenCache, SessionBuddyClient, WorkflowTools, DiagnosticsTools, OAuthClientsService, OAuthClientsTools, GrantRevocationService, RevocationOutboxService],
})
export class AppModule {}
