import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule, type JwksKeySource, type TrustedIssuers } from '@crossauth/auth';
import { AuthDiagnosticsTools, McpServerModule, OAUTH_CLIENT_CREDENTIALS_EXTENSION, resourceMetadataUrlFor } from '@crossauth/mcp-server';
import type { SessionBuddyConfig } from './config/env.schema';
import { sessionBuddyConfig, secretReload } from './config/session-buddy.config';
import { HealthModule } from './health/health.module';
import { ISSUER_KEYS, IssuerKeysModule, TRUSTED_ISSUERS } from './issuer-keys/issuer-keys.module';
import { MessagesModule } from './messages/messages.module';
import { ReflectionsModule } from './reflections/reflections.module';
import { RevocationModule } from './revocation/revocation.module';
import { SessionsModule } from './sessions/sessions.module';
import { PersistentRevocationStore, type SharedStores } from '@crossauth/storage';
import { SHARED_STORES } from './storage/storage-engine';
import { StorageModule } from './storage/storage.module';

const mcpUrl = (c: SessionBuddyConfig) => `${c.publicUrl}/mcp`;

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, envFilePath: ['.env'], load: [sessionBuddyConfig] }),
    StorageModule,
    IssuerKeysModule,
    AuthModule.forRootAsync({
      isGlobal: true,
      imports: [StorageModule, IssuerKeysModule],
      inject: [sessionBuddyConfig.KEY, PersistentRevocationStore, SHARED_STORES, ISSUER_KEYS, TRUSTED_ISSUERS],
      useFactory: (
        c: SessionBuddyConfig,
        revocations: PersistentRevocationStore,
        shared: SharedStores,
        issuerKeys: JwksKeySource | null,
        trustedIssuers: TrustedIssuers | null,
      ) => ({
        revocationStore: revocations,
        // The authorization server's JWKS: its tokens verify with public keys, and HS256 tokens naming it are refused.
        publicKeys: issuerKeys ?? undefined,
        // Outside issuers: each verified only by its own keys, for its audiences, up to its scope cap.
        trustedIssuers: trustedIssuers ?? undefined,
        mode: c.auth.mode,
        secret: c.auth.secret,
        secretName: 'SESSION_BUDDY_SECRET',
        previousSecrets: c.auth.previousSecrets,
        issuer: c.auth.audience,
        allowedIssuers: c.auth.allowedIssuers,
        legacyIssuers: c.auth.legacyIssuers,
        // The configured id (what the Python clients send) and the canonical MCP URL.
        audiences: [c.auth.audience, mcpUrl(c)],
        clockSkewSeconds: c.auth.clockSkewSeconds,
        acceptLegacyTokens: c.auth.acceptLegacyTokens,
        legacyTokensSetting: c.auth.legacyTokensSetting,
        verificationCache: { enabled: c.auth.verificationCache },
        resourceMetadataUrl: resourceMetadataUrlFor(mcpUrl(c)),
        requireSignedRequests: c.auth.requireSignedRequests,
        signatureMaxAgeSeconds: c.auth.signatureMaxAgeSeconds,
        failureThrottle: c.auth.failureThrottle,
        // Shared by every instance when Redis is configured: a nonce seen anywhere is a replay everywhere,
        // and the failure limit is the deployment's, not each instance's.
        nonceStore: shared.nonceStore,
        failureThrottleStore: shared.failureThrottleStore,
      }),
    }),
    McpServerModule.forRootAsync({
      imports: [StorageModule],
      inject: [sessionBuddyConfig.KEY, SHARED_STORES],
      useFactory: (c: SessionBuddyConfig, shared: SharedStores) => ({
        name: 'session-buddy',
        version: '0.1.0',
        resourceUrl: mcpUrl(c),
        resourceName: 'session-buddy: work sessions and reflections',
        authorizationServers: [c.auth.authorizationServer],
        stateless: c.stateless,
        modernProtocol: c.modernProtocol,
        maxBodyBytes: c.bodyLimit,
        sessionIdleTimeoutMs: c.sessionIdleSeconds * 1000,
        // 2025-era sessions are served by whichever instance a request reaches.
        sessionStore: shared.sessionStore,
        // Its authorization server (the orchestrator) grants client credentials to machines.
        extensions: { [OAUTH_CLIENT_CREDENTIALS_EXTENSION]: {} },
        instructions: 'Track work sessions (start, checkpoint, end, status) and reflections (store_reflection, quick_search) per project.',
      }),
    }),
    HealthModule,
    SessionsModule,
    ReflectionsModule,
    MessagesModule,
    RevocationModule,
  ],
  providers: [secretReload, AuthDiagnosticsTools],
})
export class AppModule {}
