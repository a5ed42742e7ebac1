import { randomUUID } from 'node:crypto';
import { Controller, Delete, Get, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import {
  AuthAuditService,
  AuthFailureThrottleService,
  AuthError,
  RequestAuthenticatorService,
  authenticationOf,
  requestIdOf,
  RequestSignatureVerifierService,
  SignatureError,
  buildBearerChallenge,
  type SignatureFailureReason,
  challengeBody,
  type Principal,
} from '@crossauth/auth';
import {
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  classifyInboundRequest,
  isInitializeRequest,
  isJsonContentType,
  type AuthInfo,
  type InboundModernRoute,
} from '@modelcontextprotocol/server';
import type { Request, Response } from 'express';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { callsExactNumbersTool, restoreExactArguments } from './exact-arguments';
import { InFlightRequests } from './in-flight-requests.service';
import { McpServerFactory } from './mcp-server.factory';
import { McpSessionRegistry, ownerOf, shortSessionId, type McpSession } from './mcp-session-registry.service';
import type { McpSessionRecord } from './mcp-session.store';
import { McpToolRegistry } from './mcp-tool-registry.service';
import { BodyTooLargeError, readBody } from './request-body';
import { resourceMetadataUrlFor } from './protected-resource-metadata.controller';
import { toAuthInfo, type McpCallAuth } from './mcp-call-auth';
import { malformedToolCall } from './tool-call';
import { McpModernExchange, type ModernAnswer, type StandardHeaders } from './modern-exchange.service';
import { NodeMcpTransport, type McpCallContext } from './node-mcp-transport';

/**
 * Refusals that are ours, answered 503 with a hint: a full nonce store has room
 * again as soon as its oldest nonce expires (at its bound they expire
 * continuously, so 30 s is generous); an unreachable shared store is retried
 * by its client every 2 s at most.
 */
const RETRY_AFTER_SECONDS: Partial<Record<SignatureFailureReason, number>> = { nonce_store_full: 30, nonce_store_unavailable: 5 };

type JsonRpcMessage = { jsonrpc?: unknown; method?: unknown; id?: unknown; params?: { name?: unknown } };

/**
 * Streamable HTTP at `/mcp`. The global guard has already authenticated the
 * request (every request, `initialize` included); this controller adds what
 * needs the JSON-RPC body: per-tool scope checks answered with the spec's
 * `403 insufficient_scope`, session ownership, and body limits.
 */
@Controller('mcp')
export class McpHttpController {
  private readonly logger = new Logger(McpHttpController.name);
  private readonly maxBodyBytes: number;
  private readonly resourceMetadataUrl: string;
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly jsonResponses: boolean;
  private readonly modernProtocol: boolean;

  constructor(
    private readonly factory: McpServerFactory,
    private readonly sessions: McpSessionRegistry,
    private readonly tools: McpToolRegistry,
    private readonly authenticator: RequestAuthenticatorService,
    private readonly audit: AuthAuditService,
    private readonly signatures: RequestSignatureVerifierService,
    private readonly throttle: AuthFailureThrottleService,
    private readonly inFlight: InFlightRequests,
    private readonly modern: McpModernExchange,
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.resourceMetadataUrl = resourceMetadataUrlFor(options.resourceUrl);
    this.allowedOrigins = new Set(options.allowedOrigins ?? [new URL(options.resourceUrl).origin]);
    this.jsonResponses = (options.responseMode ?? 'json') === 'json';
    this.modernProtocol = options.modernProtocol ?? true;
  }

  /** Refuses browser requests from foreign origins (DNS rebinding); answers and returns false. */
  private originAllowed(req: Request, res: Response): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || this.allowedOrigins.has(origin)) return true;
    this.logger.warn({ event: 'origin_refused', origin });
    jsonRpcError(res, 403, -32000, 'Forbidden: origin not allowed');
    return false;
  }

  @Post()
  post(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.inFlight.track(() => this.handlePost(req, res));
  }

  private async handlePost(req: Request, res: Response): Promise<void> {
    if (!this.originAllowed(req, res)) return;
    const { principal, auth, authInfo } = this.caller(req);
    let body: unknown;
    let raw: Buffer;
    try {
      raw = await readBody(req, this.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        res.setHeader('Connection', 'close');
        return void jsonRpcError(res, 413, -32600, `Request body exceeds ${this.maxBodyBytes} bytes`);
      }
      throw error;
    }
    const signed = this.signatureValid(req, res, raw, principal);
    if (signed !== true && !(await signed)) return;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return void jsonRpcError(res, 400, -32700, 'Parse error: body is not valid JSON');
    }
    // The SDK's own era routing: a body with the 2026-07-28 `_meta` envelope is modern;
    // envelope errors and headers that disagree with the body are refused here, before
    // any scope check or tool runs, so no header can change what is authorized.
    const headers = standardHeadersOf(req);
    const route = this.modernProtocol ? classifyInboundRequest({ httpMethod: 'POST', ...headers, body }) : ({ kind: 'legacy' } as const);
    if (route.kind === 'reject') {
      return void send(res, { status: route.httpStatus, body: { jsonrpc: '2.0', id: echoableId(body), error: { code: route.code, message: route.message, ...(route.data !== undefined ? { data: route.data } : {}) } } });
    }
    if (route.kind === 'modern') {
      if (!isJsonContentType(req.header('content-type'))) return void jsonRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      const problem = route.messageKind === 'request' ? this.modern.headerProblem(route.message, headers) : undefined;
      if (problem) return void send(res, problem);
    }
    const messages: JsonRpcMessage[] = (Array.isArray(body) ? body : [body]) as JsonRpcMessage[];
    if (messages.length === 0 || messages.some((m) => typeof m !== 'object' || m === null || m.jsonrpc !== '2.0')) {
      return void jsonRpcError(res, 400, -32600, 'Invalid Request: expected JSON-RPC 2.0 message(s)');
    }

    // Per-tool scopes need the body, so they are checked here, before anything runs,
    // to answer with HTTP 403 and a scope challenge (MCP authorization, scope step-up).
    // One challenge names every scope missing from any call in the request.
    const missing = new Set<string>();
    for (const message of messages) {
      if (message.method !== 'tools/call') continue;
      const tool = typeof message.params?.name === 'string' ? this.tools.get(message.params.name) : undefined;
      if (!tool || tool.isPublic) continue;
      try {
        this.authenticator.authorize(principal, tool.scopes);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        this.audit.record({ outcome: 'deny', reason: error.reason, subject: principal.subject, issuer: principal.issuer, target: `tools/call:${tool.name}`, transport: 'http', client: req.ip, requestId: requestIdOf(req) });
        error.requiredScopes.forEach((scope) => missing.add(scope));
      }
    }
    if (missing.size > 0) {
      await this.throttle.recordFailure(req.ip);
      const error = new AuthError('insufficient_scope', `needs ${[...missing].join(' ')}`, [...missing]);
      res.setHeader('WWW-Authenticate', buildBearerChallenge({ error, resourceMetadataUrl: this.resourceMetadataUrl }));
      return void res.status(403).json(challengeBody(error));
    }

    if (callsExactNumbersTool(messages, this.tools)) restoreExactArguments(raw.toString('utf8'), messages, this.tools);

    if (route.kind === 'modern') return this.answerModern(res, route, auth);
    const malformed = messages.length === 1 ? malformedToolCall(messages[0]) : undefined;
    if (malformed) return void res.status(200).json(malformed);

    if (this.options.stateless) return this.handleStateless(req, res, { authInfo, parsedBody: body });

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string' && sessionId !== '') {
      const found = this.ownedSession(sessionId, principal, req, res);
      const session = found === undefined || 'id' in found ? found : await found;
      if (session) {
        await this.dispatch(res, () => session.transport.handleNodeRequest(req, res, { authInfo, parsedBody: body }));
      }
      return;
    }
    if (!messages.some((m) => isInitializeRequest(m))) {
      return void jsonRpcError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id header and not an initialize request');
    }
    if (this.sessions.size >= this.sessions.maxSessions) {
      return void jsonRpcError(res, 503, -32000, 'Too many open sessions; try again later');
    }
    const server = this.factory.create('http');
    const owner = ownerOf(principal);
    const initialize = messages.find((m) => isInitializeRequest(m)) as { params: { protocolVersion: string; capabilities: Record<string, unknown>; clientInfo: McpSessionRecord['clientInfo'] } };
    const transport = this.sessionTransport(() => randomUUID(), (id) => {
      const now = Date.now();
      const store = this.sessions.store;
      this.sessions.add({ id, sharedKey: store?.keyOf(id), server, transport, owner, createdAt: now, lastSeenAt: now, lastSharedTouchAt: now });
      this.logger.log({ event: 'mcp_session_opened', session: shortSessionId(id), subject: principal.subject });
      const { protocolVersion, capabilities, clientInfo } = initialize.params;
      // The negotiated version, as the SDK answers it: the client's if supported, else the latest.
      const negotiated = SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion) ? protocolVersion : LATEST_PROTOCOL_VERSION;
      // The SDK awaits this before it answers initialize: a client's next request may reach
      // another instance, and the record must exist by then.
      return store?.save({ id, owner, protocolVersion: negotiated, clientCapabilities: capabilities, clientInfo, createdAt: now }, this.sessions.idleTimeoutMs).catch((error: unknown) => this.logger.warn({ event: 'mcp_session_not_shared', error: error instanceof Error ? error.message : String(error) }));
    });
    await server.connect(transport);
    await this.dispatch(res, () => transport.handleNodeRequest(req, res, { authInfo, parsedBody: body }));
  }

  /** One 2026-07-28 exchange: no session, no SDK server; the answer is always a single JSON body. */
  private async answerModern(res: Response, route: InboundModernRoute, auth: McpCallAuth): Promise<void> {
    await this.dispatch(res, async () => send(res, await this.modern.answer(route.message, route.classification.revision, auth)));
  }

  /** A session transport whose closing (DELETE, expiry, removal elsewhere) reaches the registry. */
  private sessionTransport(id: () => string, opened?: (id: string) => Promise<void> | undefined): NodeMcpTransport {
    const transport: NodeMcpTransport = new NodeMcpTransport({
      sessionIdGenerator: id,
      enableJsonResponse: this.jsonResponses,
      onsessioninitialized: opened,
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.remove(transport.sessionId);
    };
    return transport;
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
    const session: McpSession = { id: record.id, sharedKey: this.sessions.store?.keyOf(record.id), server, transport, owner: record.owner, createdAt: record.createdAt, lastSeenAt: now, lastSharedTouchAt: now };
    this.sessions.add(session);
    this.logger.log({ event: 'mcp_session_resumed', session: shortSessionId(record.id) });
    return session;
  }

  @Get()
  async get(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.sessionRequest(req, res);
  }

  @Delete()
  delete(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.inFlight.track(() => this.sessionRequest(req, res));
  }

  private async sessionRequest(req: Request, res: Response): Promise<void> {
    if (!this.originAllowed(req, res)) return;
    const { principal, authInfo } = this.caller(req);
    if (this.options.stateless) return void jsonRpcError(res, 405, -32000, 'Method not allowed: this server is stateless');
    const signed = this.signatureValid(req, res, Buffer.alloc(0), principal);
    if (signed !== true && !(await signed)) return;
    const sessionId = req.header('mcp-session-id');
    if (!sessionId) return void jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    const found = this.ownedSession(sessionId, principal, req, res);
    const session = found === undefined || 'id' in found ? found : await found;
    if (!session) return;
    if (req.method === 'DELETE') return this.deleteSession(session, req, res);
    await this.dispatch(res, () => session.transport.handleNodeRequest(req, res, { authInfo }));
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
      return void jsonRpcError(res, 400, -32000, `Bad Request: Unsupported protocol version: ${version}`);
    }
    try {
      await this.sessions.store?.remove(session.id);
    } catch (error) {
      this.logger.warn({ event: 'mcp_session_delete_failed', session: shortSessionId(session.id), error: error instanceof Error ? error.message : String(error) });
      return void jsonRpcError(res, 503, -32000, 'Session store unavailable; the session was not deleted, retry shortly');
    }
    await this.sessions.close(session.id, 'deleted by client');
    res.status(200).end();
  }

  private async handleStateless(req: Request, res: Response, context: McpCallContext): Promise<void> {
    const server = this.factory.create('http');
    const transport = new NodeMcpTransport({ sessionIdGenerator: undefined, enableJsonResponse: this.jsonResponses });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await this.dispatch(res, () => transport.handleNodeRequest(req, res, context));
  }

  /**
   * Checks the RFC 9421 signature when this caller must sign; answers and
   * returns false when it fails. A promise only while a shared replay store answers.
   */
  private signatureValid(req: Request, res: Response, body: Buffer, principal: Principal): boolean | Promise<boolean> {
    let pending: void | Promise<unknown>;
    try {
      pending = this.signatures.verifyIfRequired({ method: req.method, url: req.originalUrl ?? req.url, headers: req.headers }, body, principal);
    } catch (error) {
      return this.refuseSignature(error, req, res, principal);
    }
    return pending ? pending.then(() => true, (error: unknown) => this.refuseSignature(error, req, res, principal)) : true;
  }

  private refuseSignature(error: unknown, req: Request, res: Response, principal: Principal): false {
    if (!(error instanceof SignatureError)) throw error;
    this.audit.record({ outcome: 'deny', reason: error.reason, subject: principal.subject, issuer: principal.issuer, target: `${req.method} /mcp`, transport: 'http', client: req.ip, detail: error.detail, requestId: requestIdOf(req) });
    const retryAfter = RETRY_AFTER_SECONDS[error.reason];
    if (retryAfter !== undefined) {
      // Our capacity or our replay store, not the caller's fault: no failure counted. Never let it through unchecked.
      res.setHeader('Retry-After', String(retryAfter));
      res.status(503).json({ error: 'temporarily_unavailable', error_description: error.reason, reason: error.reason });
      return false;
    }
    void this.throttle.recordFailure(req.ip);
    res.status(401).json({ error: 'invalid_signature', error_description: error.reason, reason: error.reason });
    return false;
  }

  /**
   * The session, if it exists and belongs to this principal; otherwise answers
   * and returns undefined. A session this instance does not hold is looked up
   * in the shared store (a promise then) and rebuilt here.
   */
  private ownedSession(id: string, principal: Principal, req: Request, res: Response): McpSession | undefined | Promise<McpSession | undefined> {
    const session = this.sessions.get(id);
    if (session) {
      if (!this.ownedBy(session.owner, id, principal, req, res)) return undefined;
      this.sessions.touch(session);
      return session;
    }
    const store = this.sessions.store;
    if (!store) return notFound(res);
    return store.find(id).then(
      (record) => {
        if (!record || this.sessions.tooOld(record.createdAt)) return notFound(res);
        if (!this.ownedBy(record.owner, id, principal, req, res)) return undefined;
        // Another request may have rebuilt it meanwhile.
        return this.sessions.get(id) ?? this.restore(record);
      },
      () => {
        jsonRpcError(res, 503, -32000, 'Session store unavailable; retry shortly');
        return undefined;
      },
    );
  }

  private ownedBy(owner: string, id: string, principal: Principal, req: Request, res: Response): boolean {
    if (owner === ownerOf(principal)) return true;
    // Sessions are not authentication: a valid token for someone else cannot ride this session.
    this.audit.record({ outcome: 'deny', reason: 'session_owner_mismatch', subject: principal.subject, issuer: principal.issuer, target: `${req.method} /mcp session ${shortSessionId(id)}`, transport: 'http', client: req.ip, requestId: requestIdOf(req) });
    jsonRpcError(res, 403, -32003, 'Forbidden: this session belongs to another principal');
    return false;
  }

  private async dispatch(res: Response, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
    } catch (error) {
      this.logger.error({ event: 'mcp_transport_error', error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
    }
  }

  /**
   * The caller the global guard authenticated, and the same caller as the SDK's
   * `authInfo`, which tool handlers receive with each call.
   */
  private caller(req: Request): { principal: Principal; auth: McpCallAuth; authInfo: AuthInfo } {
    const authentication = authenticationOf(req);
    // The global guard guarantees this; a missing principal means a wiring error, so fail closed.
    if (!authentication) throw new AuthError('missing', 'no principal on /mcp request');
    const auth: McpCallAuth = {
      principal: authentication.principal,
      matchesPresentedToken: authentication.matchesPresentedToken,
      requestId: requestIdOf(req),
    };
    return { principal: authentication.principal, auth, authInfo: toAuthInfo(auth) };
  }
}

function notFound(res: Response): undefined {
  jsonRpcError(res, 404, -32001, 'Session not found');
  return undefined;
}

function standardHeadersOf(req: Request): StandardHeaders {
  return { protocolVersionHeader: req.header('mcp-protocol-version'), mcpMethodHeader: req.header('mcp-method'), mcpNameHeader: req.header('mcp-name') };
}

/** The id of a refused request, when it has a usable one (JSON-RPC: null otherwise). */
function echoableId(body: unknown): string | number | null {
  const id = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { id?: unknown }).id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

function send(res: Response, answer: ModernAnswer): void {
  if (answer.body) res.status(answer.status).json(answer.body);
  else res.status(answer.status).end();
}

function jsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
