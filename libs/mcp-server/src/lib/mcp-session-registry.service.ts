import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Server } from '@modelcontextprotocol/server';
import type { NodeMcpTransport } from './node-mcp-transport';
import type { Principal } from '@crossauth/auth';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import type { McpSessionStore } from './mcp-session.store';

/** One stateful MCP session. Bound to the principal that created it. */
export interface McpSession {
  readonly id: string;
  /** The session store's key for it, when sessions are shared. */
  readonly sharedKey?: string;
  readonly server: Server;
  readonly transport: NodeMcpTransport;
  /** `iss` + `sub` of the creator: sessions are not authentication, but they are owned. */
  readonly owner: string;
  readonly createdAt: number;
  lastSeenAt: number;
  /** When this instance last pushed the shared record's expiry back. */
  lastSharedTouchAt?: number;
}

/** The owner key of a principal. A refreshed token for the same principal keeps its sessions. */
export function ownerOf(principal: Principal): string {
  return `${principal.issuer}\u0000${principal.subject}`;
}

/**
 * Live sessions with idle and absolute expiry. A sweep closes expired ones;
 * `DELETE /mcp` closes one at once.
 */
@Injectable()
export class McpSessionRegistry implements OnModuleDestroy {
  private readonly logger = new Logger(McpSessionRegistry.name);
  private readonly sessions = new Map<string, McpSession>();
  private readonly idleMs: number;
  private readonly maxLifetimeMs: number;
  readonly maxSessions: number;
  private readonly sweeper: NodeJS.Timeout;

  /** Shared with the other instances, when a store is configured. */
  readonly store: McpSessionStore | undefined;

  constructor(@Inject(MCP_MODULE_OPTIONS) options: McpServerModuleOptions) {
    this.store = options.sessionStore;
    // A session deleted on another instance is dropped here too.
    this.store?.onRemoved((key) => {
      for (const session of this.sessions.values()) if (session.sharedKey === key) void this.close(session.id, 'deleted on another instance');
    });
    this.idleMs = options.sessionIdleTimeoutMs ?? 30 * 60_000;
    this.maxLifetimeMs = options.sessionMaxLifetimeMs ?? 12 * 3_600_000;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.sweeper = setInterval(() => this.sweep(), Math.max(1_000, Math.min(60_000, this.idleMs / 2)));
    this.sweeper.unref();
  }

  add(session: McpSession): void {
    this.sessions.set(session.id, session);
  }

  get(id: string): McpSession | undefined {
    const session = this.sessions.get(id);
    if (session && this.expired(session, Date.now())) {
      void this.close(id, 'expired');
      return undefined;
    }
    return session;
  }

  /** The idle timeout, for the shared records' expiry. */
  get idleTimeoutMs(): number {
    return this.idleMs;
  }

  /** Whether a shared record created at `createdAt` has outlived the absolute lifetime. */
  tooOld(createdAt: number, now = Date.now()): boolean {
    return now - createdAt > this.maxLifetimeMs;
  }

  /** Marks a session used now; pushes the shared record's expiry back at most every quarter of the idle timeout. */
  touch(session: McpSession, now = Date.now()): void {
    session.lastSeenAt = now;
    if (!this.store || now - (session.lastSharedTouchAt ?? session.createdAt) < this.idleMs / 4) return;
    session.lastSharedTouchAt = now;
    this.store.touch(session.id, this.idleMs);
  }

  /** Forgets a session (called by the transport when it closes). */
  remove(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  async close(id: string, why: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.logger.log({ event: 'mcp_session_closed', session: shortSessionId(id), why });
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  }

  sweep(now = Date.now()): number {
    let closed = 0;
    for (const session of [...this.sessions.values()]) {
      if (this.expired(session, now)) {
        void this.close(session.id, 'expired');
        closed++;
      }
    }
    return closed;
  }

  /** Counts and ages for diagnostics; ids only as short hashes. */
  describe(now = Date.now()): Array<{ session: string; owner: string; idleSeconds: number; ageSeconds: number }> {
    return [...this.sessions.values()].map((s) => ({
      session: shortSessionId(s.id),
      owner: s.owner.replace('\u0000', '/'),
      idleSeconds: Math.round((now - s.lastSeenAt) / 1000),
      ageSeconds: Math.round((now - s.createdAt) / 1000),
    }));
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id, 'shutdown')));
  }

  private expired(session: McpSession, now: number): boolean {
    return now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.maxLifetimeMs;
  }
}

/** A session id as it may appear in logs and diagnostics. */
export function shortSessionId(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 10);
}
