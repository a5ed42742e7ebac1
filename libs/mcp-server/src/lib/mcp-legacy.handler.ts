import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@crossauth/auth';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, isInitializeRequest } from '@modelcontextprotocol/server';
import type { Request, Response } from 'express';
import { McpAdmission, type AdmittedPost, type McpCaller } from './mcp-admission.service';
import { dispatch, jsonRpcError, writeAnswer, type HttpAnswer } from './mcp-http-answer';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { McpServerFactory } from './mcp-server.factory';
import { McpSessionRegistry, ownerOf, shortSessionId, type McpSession } from './mcp-session-registry.service';
import type { McpSessionRecord } from './mcp-session.store';
import { NodeMcpTransport } from './node-mcp-transport';
import { malformedToolCall } from './tool-call';

const SESSION_NOT_FOUND = jsonRpcError(404, -32001, 'Session not found');

/**
 * The 2025-era protocol behind an admitted request: SDK servers and their
 * Streamable HTTP transports, one per session (or one per request when
 * stateless), sessions owned by the principal that opened them and shared
 * with other instances through the session store.
 */
@Injectable()
export class McpLegacyHandler {
  private readonly logger = new Logger(McpLegacyHandler.name);
  private readonly jsonResponses: boolean;

  constructor(
    private readonly factory: McpServerFactory,
    private readonly sessions: McpSessionRegistry,
    private readonly admission: McpAdmission,
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
  ) {
    this.jsonResponses = (options.responseMode ?? 'json') === 'json';
  }

  /** An admitted 2025-era POST: to its session, a new session (initialize), or a per-request server. */
  async post(req: Request, res: Response, { caller, body, messages }: AdmittedPost): Promise<void> {
    const malformed = messages.length === 1 ? malformedToolCall(messages[0]) : undefined;
    if (malformed) return void res.status(200).json(malformed);
    const context = { authInfo: caller.authInfo, parsedBody: body };
    if (this.options.stateless) return this.stateless(req, res, context);

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string' && sessionId !== '') {
      const found = this.ownedSession(sessionId, caller.principal, req, res);
      const session = found instanceof Promise ? await found : found;
      if (session) await dispatch(res, this.logger, () => session.transport.handleNodeRequest(req, res, context));
      return;
    }
    const initialize = messages.find((m) => isInitializeRequest(m)) as
      { params: { protocolVersion: string; capabilities: Record<string, unknown>; clientInfo: McpSessionRecord['clientInfo'] } } | undefined;
    if (!initialize) return writeAnswer(res, jsonRpcError(400, -32000, 'Bad Request: no Mcp-Session-Id header and not an initialize request'));
    if (this.sessions.size >= this.sessions.maxSessions) return writeAnswer(res, jsonRpcError(503, -32000, 'Too many open sessions; try again later'));
    const server = this.factory.create('http');
    const owner = ownerOf(caller.principal);
    const transport = this.sessionTransport(
      () => randomUUID(),
      (id) => {
        const now = Date.now();
        const store = this.sessions.store;
        this.sessions.add({ id, sharedKey: store?.keyOf(id), server, transport, owner, createdAt: now, lastSeenAt: now, lastSharedTouchAt: now });
        this.logger.log({ event: 'mcp_session_opened', session: shortSessionId(id), subject: caller.principal.subject });
        const { protocolVersion, capabilities, clientInfo } = initialize.params;
        // The negotiated version, as the SDK answers it: the client's if supported, else the latest.
        const negotiated = SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion) ? protocolVersion : LATEST_PROTOCOL_VERSION;
        // The SDK awaits this before it answers initialize: a client's next request may reach
        // another instance, and the record must exist by then.
        return store
          ?.save({ id, owner, protocolVersion: negotiated, clientCapabilities: capabilities, clientInfo, createdAt: now }, this.sessions.idleTimeoutMs)
          .catch((error: unknown) => this.logger.warn({ event: 'mcp_session_not_shared', error: error instanceof Error ? error.message : String(error) }));
      },
    );
    await server.connect(transport);
    await dispatch(res, this.logger, () => transport.handleNodeRequest(req, res, context));
  }

  /** An admitted GET (the session's event stream) or DELETE. */
  async sessionRequest(req: Request, res: Response, caller: McpCaller): Promise<void> {
    const sessionId = req.header('mcp-session-id');
    if (!sessionId) return writeAnswer(res, jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required'));
    const found = this.ownedSession(sessionId, caller.principal, req, res);
    const session = found instanceof Promise ? await found : found;
    if (!session) return;
    if (req.method === 'DELETE') return this.deleteSession(session, req, res);
    await dispatch(res, this.logger, () => session.transport.handleNodeRequest(req, res, { authInfo: caller.authInfo }));
  }

  /**
   * DELETE: the shared record goes first, then this instance's copy; the 200
   * comes only after both, so no instance serves the session once the client
   * has its answer (the others drop theirs on the removal message, which Redis
   * delivered before this answer left). Requests still in flight on the
   * session are answered "Session not found" (see NodeMcpTransport.close).
   */
  private async deleteSession(session: McpSession, req: Request, res: Response): Promise<void> {
    const version = req.header('mcp-protocol-version');
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return writeAnswer(res, jsonRpcError(400, -32000, `Bad Request: Unsupported protocol version: ${version}`));
    }
    try {
      await this.sessions.store?.remove(session.id);
    } catch (error) {
      this.logger.warn({
        event: 'mcp_session_delete_failed',
        session: shortSessionId(session.id),
        error: error instanceof Error ? error.message : String(error),
      });
      return writeAnswer(res, jsonRpcError(503, -32000, 'Session store unavailable; the session was not deleted, retry shortly'));
    }
    await this.sessions.close(session.id, 'deleted by client');
    res.status(200).end();
  }

  private async stateless(req: Request, res: Response, context: { authInfo: McpCaller['authInfo']; parsedBody: unknown }): Promise<void> {
    const server = this.factory.create('http');
    const transport = new NodeMcpTransport({ sessionIdGenerator: undefined, enableJsonResponse: this.jsonResponses });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await dispatch(res, this.logger, () => transport.handleNodeRequest(req, res, context));
  }

  /** A session transport whose closing (DELETE, expiry, removal elsewhere) reaches the registry. */
  private sessionTransport(id: () => string, opened?: (id: string) => Promise<void> | undefined): NodeMcpTransport {
    const transport: NodeMcpTransport = new NodeMcpTransport({ sessionIdGenerator: id, enableJsonResponse: this.jsonResponses, onsessioninitialized: opened });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.remove(transport.sessionId);
    };
    return transport;
  }

  /**
   * The session, if it exists and belongs to this principal; otherwise answers
   * and resolves undefined. A session this instance does not hold is looked up
   * in the shared store and rebuilt here.
   */
  private ownedSession(id: string, principal: Principal, req: Request, res: Response): McpSession | undefined | Promise<McpSession | undefined> {
    const answer = (refusal: HttpAnswer): undefined => void writeAnswer(res, refusal);
    const session = this.sessions.get(id);
    if (session) {
      if (session.owner !== ownerOf(principal)) return answer(this.admission.refuseSessionOwner(req, principal, shortSessionId(id)));
      this.sessions.touch(session);
      return session;
    }
    const store = this.sessions.store;
    if (!store) return answer(SESSION_NOT_FOUND);
    return store.find(id).then(
      (record) => {
        if (!record || this.sessions.tooOld(record.createdAt)) return answer(SESSION_NOT_FOUND);
        if (record.owner !== ownerOf(principal)) return answer(this.admission.refuseSessionOwner(req, principal, shortSessionId(id)));
        // Another request may have rebuilt it meanwhile.
        return this.sessions.get(id) ?? this.restore(record);
      },
      () => answer(jsonRpcError(503, -32000, 'Session store unavailable; retry shortly')),
    );
  }

  /**
   * A session another instance opened, rebuilt here from the shared record:
   * a server and transport in the state `initialize` left them in. The SDK
   * (v2 as 1.x) has no public way to resume a session elsewhere, so the
   * fields `initialize` sets are set here (the mcp-server spec fails if they
   * move): the transport's session id and initialized flag, the server's view
   * of the client and the negotiated protocol version.
   */
  private async restore(record: McpSessionRecord): Promise<McpSession> {
    const server = this.factory.create('http');
    const transport = this.sessionTransport(() => record.id);
    const t = transport as unknown as { sessionId?: string; _initialized: boolean };
    t.sessionId = record.id;
    t._initialized = true;
    const s = server as unknown as { _clientCapabilities?: unknown; _clientVersion?: unknown; _negotiatedProtocolVersion?: string };
    s._clientCapabilities = record.clientCapabilities;
    s._clientVersion = record.clientInfo;
    s._negotiatedProtocolVersion = record.protocolVersion;
    await server.connect(transport);
    const now = Date.now();
    const session: McpSession = {
      id: record.id,
      sharedKey: this.sessions.store?.keyOf(record.id),
      server,
      transport,
      owner: record.owner,
      createdAt: record.createdAt,
      lastSeenAt: now,
      lastSharedTouchAt: now,
    };
    this.sessions.add(session);
    this.logger.log({ event: 'mcp_session_resumed', session: shortSessionId(record.id) });
    return session;
  }
}
