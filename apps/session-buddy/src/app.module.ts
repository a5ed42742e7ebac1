import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from '@crossauth/auth';
import { AuthDiagnosticsTools, McpServerModule, resourceMetadataUrlFor } from '@crossauth/mcp-server';
import type { SessionBuddyConfig } from './config/env.schema';
import { sessionBuddyConfig, secretReload } from './config/session-buddy.config';
import { HealthTools } from './health/health.tools';
import { MessagesTools } from './messages/messages.tools';
import { PROJECT_MESSAGE_REPOSITORY } from './messages/project-message.repository';
import { SqliteProjectMessageRepository } from './messages/sqlite-project-message.repository';
import { REFLECTION_REPOSITORY } from './reflections/reflection.repository';
import { ReflectionsTools } from './reflections/reflections.tools';
import { SqliteReflectionRepository } from './reflections/sqlite-reflection.repository';
import { SESSION_REPOSITORY } from './sessions/session.repository';
import { SessionsTools } from './sessions/sessions.tools';
import { SqliteSessionRepository } from './sessions/sqlite-session.repository';
import { RevocationTools } from './revocation/revocation.tools';
import { SqliteRevocationStore } from './revocation/sqlite-revocation.store';
import { StorageModule } from './storage/storage.module';

const mcpUrl = (c: SessionBuddyConfig) => `${c.publicUrl}/mcp`;

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, envFilePath: ['.env'], load: [sessionBuddyConfig] }),
    StorageModule,
    AuthModule.forRootAsync({
      isGlobal: true,
      imports: [StorageModule],
      inject: [sessionBuddyConfig.KEY, SqliteRevocationStore],
      useFactory: (c: SessionBuddyConfig, revocations: SqliteRevocationStore) => ({
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
      }),
    }),
    McpServerModule.forRootAsync({
      inject: [sessionBuddyConfig.KEY],
      useFactory: (c: SessionBuddyConfig) => ({
        name: 'session-buddy',
        version: '0.1.0',
        resourceUrl: mcpUrl(c),
        resourceName: 'session-buddy: work sessions and reflections',
        authorizationServers: [c.auth.authorizationServer],
        stateless: c.stateless,
        maxBodyBytes: c.bodyLimit,
        sessionIdleTimeoutMs: c.sessionIdleSeconds * 1000,
        instructions: 'Track work sessions (start, checkpoint, end, status) and reflections (store_reflection, quick_search) per project.',
      }),
    }),
  ],
  providers: [
    secretReload,
    AuthDiagnosticsTools,
    RevocationTools,
    { provide: SESSION_REPOSITORY, useClass: SqliteSessionRepository },
    { provide: REFLECTION_REPOSITORY, useClass: SqliteReflectionRepository },
    HealthTools,
    SessionsTools,
    ReflectionsTools,
    { provide: PROJECT_MESSAGE_REPOSITORY, useClass: SqliteProjectMessageRepository },
    MessagesTools,
  ],
})
export class AppModule {}
