import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AuthAuditService,
  AuthError,
  AuthFailureThrottleService,
  RequestAuthenticatorService,
  RequestSignatureVerifierService,
  SignatureError,
  authenticationOf,
  buildBearerChallenge,
  challengeBody,
  requestIdOf,
  type Principal,
} from '@crossauth/auth';
import { classifyInboundRequest, isJsonContentType, type AuthInfo, type InboundModernRoute } from '@modelcontextprotocol/server';
import type { Request } from 'express';
import { callsExactNumbersTool, restoreExactArguments } from './exact-arguments';
import { toAuthInfo, type McpCallAuth } from './mcp-call-auth';
import { jsonRpcError, type HttpAnswer } from './mcp-http-answer';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { McpToolRegistry } from './mcp-tool-registry.service';
import { McpModernExchange, type StandardHeaders } from './modern-exchange.service';
import { resourceMetadataUrlFor } from './protected-resource-metadata.controller';
import { BodyTooLargeError, readBody } from './request-body';

/**
 * Refusals that are ours, answered 503 with a hint: a full nonce store has room
 * again as soon as its oldest nonce expires (at its bound they expire
 * continuously, so 30 s is generous); an unreachable shared store is retried
 * by its client every 2 s at most.
 */
const RETRY_AFTER_SECONDS: Readonly<Record<string, number>> = { nonce_store_full: 30, nonce_store_unavailable: 5 };

export type JsonRpcMessage = { jsonrpc?: unknown; method?: unknown; id?: unknown; params?: { name?: unknown } };

/** The caller the global guard authenticated, in the forms the two eras hand to tools. */
export interface McpCaller {
  readonly principal: Principal;
  readonly auth: McpCallAuth;
  /** The same caller as the SDK's `authInfo`, which tool handlers receive with each call. */
  readonly authInfo: AuthInfo;
}

/** A POST that passed every check made before a tool runs. */
export interface AdmittedPost {
  readonly caller: McpCaller;
  readonly body: unknown;
  readonly messages: readonly JsonRpcMessage[];
  /** Set for a 2026-07-28 request; a 2025-era one goes to a session. */
  readonly modern?: InboundModernRoute;
}

/** One admitted request, or the one answer that refuses it. */
export type Admission<T> = { readonly admitted: T; readonly refused?: undefined } | { readonly refused: HttpAnswer; readonly admitted?: undefined };

const refuse = (answer: HttpAnswer): { refused: HttpAnswer } => ({ refused: answer });

/**
 * The admission step for `/mcp`: everything decided about a request before
 * either protocol era runs anything, in this order: origin (DNS rebinding),
 * body size, the RFC 9421 signature when this caller must sign, JSON, the
 * SDK's era routing and the 2026-07-28 header cross-checks, JSON-RPC shape,
 * then per-tool scopes. Refusals are audited and counted towards the failure
 * throttle here, and nowhere else in the transport. Authentication itself
 * is the global guard's (libs/auth), which runs first.
 */
@Injectable()
export class McpAdmission {
  private readonly logger = new Logger(McpAdmission.name);
  private readonly maxBodyBytes: number;
  private readonly resourceMetadataUrl: string;
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly modernProtocol: boolean;

  constructor(
    private readonly tools: McpToolRegistry,
    private readonly authenticator: RequestAuthenticatorService,
    private readonly audit: AuthAuditService,
    private readonly signatures: RequestSignatureVerifierService,
    private readonly throttle: AuthFailureThrottleService,
    private readonly modern: McpModernExchange,
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.resourceMetadataUrl = resourceMetadataUrlFor(options.resourceUrl);
    this.allowedOrigins = new Set(options.allowedOrigins ?? [new URL(options.resourceUrl).origin]);
    this.modernProtocol = options.modernProtocol ?? true;
  }

  /** A JSON-RPC POST: admitted with its parsed messages and era, or refused. */
  async admitPost(req: Request): Promise<Admission<AdmittedPost>> {
    const foreign = this.foreignOrigin(req);
    if (foreign) return refuse(foreign);
    const caller = callerOf(req);
    let raw: Buffer;
    try {
      raw = await readBody(req, this.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        return refuse(jsonRpcError(413, -32600, `Request body exceeds ${this.maxBodyBytes} bytes`, { Connection: 'close' }));
      throw error;
    }
    const signature = this.signatureRefusal(req, raw, caller.principal);
    const unsigned = signature instanceof Promise ? await signature : signature;
    if (unsigned) return refuse(unsigned);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(jsonRpcError(400, -32700, 'Parse error: body is not valid JSON'));
    }
    // The SDK's own era routing: a body with the 2026-07-28 `_meta` envelope is modern;
    // envelope errors and headers that disagree with the body are refused here, before
    // any scope check or tool runs, so no header can change what is authorized.
    const headers = standardHeadersOf(req);
    const route = this.modernProtocol ? classifyInboundRequest({ httpMethod: 'POST', ...headers, body }) : ({ kind: 'legacy' } as const);
    if (route.kind === 'reject') {
      return refuse({
        status: route.httpStatus,
        body: {
          jsonrpc: '2.0',
          id: echoableId(body),
          error: { code: route.code, message: route.message, ...(route.data !== undefined ? { data: route.data } : {}) },
        },
      });
    }
    if (route.kind === 'modern') {
      if (!isJsonContentType(req.header('content-type')))
        return refuse(jsonRpcError(415, -32000, 'Unsupported Media Type: Content-Type must be application/json'));
      const problem = route.messageKind === 'request' ? this.modern.headerProblem(route.message, headers) : undefined;
      if (problem) return refuse(problem);
    }
    const messages: JsonRpcMessage[] = (Array.isArray(body) ? body : [body]) as JsonRpcMessage[];
    if (messages.length === 0 || messages.some((m) => typeof m !== 'object' || m === null || m.jsonrpc !== '2.0')) {
      return refuse(jsonRpcError(400, -32600, 'Invalid Request: expected JSON-RPC 2.0 message(s)'));
    }
    const underScoped = this.scopeRefusal(req, caller.principal, messages);
    if (underScoped) return refuse(await underScoped);
    if (callsExactNumbersTool(messages, this.tools)) restoreExactArguments(raw.toString('utf8'), messages, this.tools);
    return { admitted: { caller, body, messages, ...(route.kind === 'modern' ? { modern: route } : {}) } };
  }

  /** A GET or DELETE on a 2025-era session: the caller, or the refusal. */
  async admitSessionRequest(req: Request): Promise<Admission<McpCaller>> {
    const foreign = this.foreignOrigin(req);
    if (foreign) return refuse(foreign);
    const caller = callerOf(req);
    if (this.options.stateless) return refuse(jsonRpcError(405, -32000, 'Method not allowed: this server is stateless'));
    const signature = this.signatureRefusal(req, Buffer.alloc(0), caller.principal);
    const unsigned = signature instanceof Promise ? await signature : signature;
    return unsigned ? refuse(unsigned) : { admitted: caller };
  }

  /** Sessions are not authentication: a valid token for someone else cannot ride another's session. */
  refuseSessionOwner(req: Request, principal: Principal, session: string): HttpAnswer {
    this.deny(req, principal, 'session_owner_mismatch', `${req.method} /mcp session ${session}`);
    return jsonRpcError(403, -32003, 'Forbidden: this session belongs to another principal');
  }

  private foreignOrigin(req: Request): HttpAnswer | undefined {
    const origin = req.headers.origin;
    if (origin === undefined || this.allowedOrigins.has(origin)) return undefined;
    this.logger.warn({ event: 'origin_refused', origin });
    return jsonRpcError(403, -32000, 'Forbidden: origin not allowed');
  }

  /** The RFC 9421 check when this caller must sign; a promise only while a shared replay store answers. */
  private signatureRefusal(req: Request, body: Buffer, principal: Principal): HttpAnswer | undefined | Promise<HttpAnswer | undefined> {
    let pending: void | Promise<unknown>;
    try {
      pending = this.signatures.verifyIfRequired({ method: req.method, url: req.originalUrl ?? req.url, headers: req.headers }, body, principal);
    } catch (error) {
      return this.signatureFailure(error, req, principal);
    }
    return pending
      ? pending.then(
          () => undefined,
          (error: unknown) => this.signatureFailure(error, req, principal),
        )
      : undefined;
  }

  private signatureFailure(error: unknown, req: Request, principal: Principal): HttpAnswer {
    if (!(error instanceof SignatureError)) throw error;
    this.deny(req, principal, error.reason, `${req.method} /mcp`, error.detail);
    const retryAfter = RETRY_AFTER_SECONDS[error.reason];
    if (retryAfter !== undefined) {
      // Our capacity or our replay store, not the caller's fault: no failure counted. Never let it through unchecked.
      return {
        status: 503,
        headers: { 'Retry-After': String(retryAfter) },
        body: { error: 'temporarily_unavailable', error_description: error.reason, reason: error.reason },
      };
    }
    void this.throttle.recordFailure(req.ip);
    return { status: 401, body: { error: 'invalid_signature', error_description: error.reason, reason: error.reason } };
  }

  /**
   * Per-tool scopes need the body, so they are checked here, before anything runs,
   * to answer with HTTP 403 and a scope challenge (MCP authorization, scope step-up).
   * One challenge names every scope missing from any call in the request.
   */
  private scopeRefusal(req: Request, principal: Principal, messages: readonly JsonRpcMessage[]): Promise<HttpAnswer> | undefined {
    let missing: Set<string> | undefined;
    for (const message of messages) {
      if (message.method !== 'tools/call') continue;
      const tool = typeof message.params?.name === 'string' ? this.tools.get(message.params.name) : undefined;
      if (!tool || tool.isPublic) continue;
      try {
        this.authenticator.authorize(principal, tool.scopes);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        this.deny(req, principal, error.reason, `tools/call:${tool.name}`);
        missing ??= new Set();
        error.requiredScopes.forEach((scope) => missing?.add(scope));
      }
    }
    if (!missing) return undefined;
    const error = new AuthError('insufficient_scope', `needs ${[...missing].join(' ')}`, [...missing]);
    const answer: HttpAnswer = {
      status: 403,
      headers: { 'WWW-Authenticate': buildBearerChallenge({ error, resourceMetadataUrl: this.resourceMetadataUrl }) },
      body: challengeBody(error),
    };
    return this.throttle.recordFailure(req.ip).then(() => answer);
  }

  private deny(req: Request, principal: Principal, reason: string, target: string, detail?: string): void {
    this.audit.record({
      outcome: 'deny',
      reason,
      subject: principal.subject,
      issuer: principal.issuer,
      target,
      transport: 'http',
      client: req.ip,
      requestId: requestIdOf(req),
      ...(detail !== undefined ? { detail } : {}),
    });
  }
}

function callerOf(req: Request): McpCaller {
  const authentication = authenticationOf(req);
  // The global guard guarantees this; a missing principal means a wiring error, so fail closed.
  if (!authentication) throw new AuthError('missing', 'no principal on /mcp request');
  const auth: McpCallAuth = { principal: authentication.principal, matchesPresentedToken: authentication.matchesPresentedToken, requestId: requestIdOf(req) };
  return { principal: authentication.principal, auth, authInfo: toAuthInfo(auth) };
}

function standardHeadersOf(req: Request): StandardHeaders {
  return { protocolVersionHeader: req.header('mcp-protocol-version'), mcpMethodHeader: req.header('mcp-method'), mcpNameHeader: req.header('mcp-name') };
}

/** The id of a refused request, when it has a usable one (JSON-RPC: null otherwise). */
function echoableId(body: unknown): string | number | null {
  const id = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { id?: unknown }).id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
