import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { PersistentRevocationStore, type SharedStores } from '@crossauth/storage';
import { AuthModule, type FileSigningKeys } from '@crossauth/auth';
import { AuthDiagnosticsTools, McpServerModule, OAUTH_CLIENT_CREDENTIALS_EXTENSION, resourceMetadataUrlFor } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from './config/env.schema';
import { orchestratorConfig, secretReload } from './config/orchestrator.config';
import { AccountsModule } from './accounts/accounts.module';
import { HealthModule } from './health/health.module';
import { OAuthModule } from './oauth/oauth.module';
import { SIGNING_KEYS } from './signing-keys/signing-keys.constants';
import { SigningKeysModule } from './signing-keys/signing-keys.module';
import { SHARED_STORES, SharedStateModule } from './shared-state/shared-state.module';
import { StorageModule } from './storage/storage.module';
import { WorkflowsModule } from './workflows/workflows.module';

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
        failureThrottle: c.failureThrottle,
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
    HealthModule,
    AccountsModule,
    OAuthModule,
    WorkflowsModule,
  ],
  providers: [secretReload, AuthDiagnosticsTools],
})
export class AppModule {}
