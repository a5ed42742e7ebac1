import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule, RedisFailureThrottleStore, RedisNonceStore, type RedisConnection } from '@crossauth/auth';
import { AuthDiagnosticsTools, McpServerModule, RedisMcpSessionStore, resourceMetadataUrlFor } from '@crossauth/mcp-server';
import type { SessionBuddyConfig } from './config/env.schema';
import { sessionBuddyConfig, secretReload } from './config/session-buddy.config';
import { HealthController } from './health/health.controller';
import { HealthTools } from './health/health.tools';
import { MessagesTools } from './messages/messages.tools';
import { ReflectionsTools } from './reflections/reflections.tools';
import { SessionsTools } from './sessions/sessions.tools';
import { RevocationTools } from './revocation/revocation.tools';
import { PersistentRevocationStore } from '@crossauth/storage';
import { REDIS_CONNECTION } from './storage/storage-engine';
import { StorageModule } from './storage/storage.module';

const mcpUrl = (c: SessionBuddyConfig) => `${c.publicUrl}/mcp`;

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, envFilePath: ['.env'], load: [sessionBuddyConfig] }),
    StorageModule,
    AuthModule.forRootAsync({
      isGlobal: true,
      imports: [StorageModule],
      inject: [sessionBuddyConfig.KEY, PersistentRevocationStore, REDIS_CONNECTION],
      useFactory: (c: SessionBuddyConfig, revocations: PersistentRevocationStore, redis: RedisConnection | null) => ({
        revocationStore: revocations,
        mode: c.auth.mode,
        secret: c.auth.secret,
        secretName: 'SESSION_BUDDY_SECRET',
        previousSecrets: c.auth.previousSecrets,
        issuer: c.auth.audience,
        allowedIssuers: c.auth.allowedIssuers,
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
        // Shared by every instance when Redis is configured: a nonce seen anywhere is a replay everywhere.
        nonceStore: redis ? new RedisNonceStore(redis.client) : undefined,
        // Failures counted across instances: the limit is the deployment's, not each instance's.
        failureThrottleStore: redis ? (rule) => new RedisFailureThrottleStore(redis, rule) : undefined,
      }),
    }),
    McpServerModule.forRootAsync({
      imports: [StorageModule],
      inject: [sessionBuddyConfig.KEY, REDIS_CONNECTION],
      useFactory: (c: SessionBuddyConfig, redis: RedisConnection | null) => ({
        name: 'session-buddy',
        version: '0.1.0',
        resourceUrl: mcpUrl(c),
        resourceName: 'session-buddy: work sessions and reflections',
        authorizationServers: [c.auth.authorizationServer],
        stateless: c.stateless,
        maxBodyBytes: c.bodyLimit,
        sessionIdleTimeoutMs: c.sessionIdleSeconds * 1000,
        // 2025-era sessions are served by whichever instance a request reaches.
        sessionStore: redis ? new RedisMcpSessionStore(redis) : undefined,
        instructions: 'Track work sessions (start, checkpoint, end, status) and reflections (store_reflection, quick_search) per project.',
      }),
    }),
  ],
  controllers: [HealthController],
  providers: [
    secretReload,
    AuthDiagnosticsTools,
    RevocationTools,
    HealthTools,
    SessionsTools,
    ReflectionsTools,
    MessagesTools,
  ],
})
export class AppModule {}
