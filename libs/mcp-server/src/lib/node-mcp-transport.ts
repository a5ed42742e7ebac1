import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { WebStandardStreamableHTTPServerTransport, type AuthInfo, type WebStandardStreamableHTTPServerTransportOptions } from '@modelcontextprotocol/server';

/** What one HTTP request hands to the MCP transport besides itself. */
export interface McpCallContext {
  /** The authenticated caller, as tool handlers see it (`extra.authInfo`). */
  readonly authInfo: AuthInfo;
  /** The JSON-RPC body, already read and parsed (POST only). */
  readonly parsedBody?: unknown;
}

// Keyed by the Node request; the listener below looks its context up again.
const contexts = new WeakMap<IncomingMessage, McpCallContext>();

// Headers the guard and the signature check have already consumed. The SDK
// copies every request header into each request's `extra.requestInfo`, which
// every handler on the server receives; withholding the credentials keeps
// bearer tokens and signatures out of handler code and whatever it logs
// (handlers get the verified caller as `extra.authInfo`). Content-Digest goes
// too: it only served the signature, and that copy builds a Headers entry,
// validated and sorted, for every header on every POST (~2,000 instructions
// each under callgrind, docs/benchmarks.md).
const WITHHELD_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'signature', 'signature-input', 'content-digest']);
// Only a name of one of these lengths can match, so the others skip the lower-casing.
const WITHHELD_LENGTHS: ReadonlySet<number> = new Set([...WITHHELD_HEADERS].map((name) => name.length));

/** `rawHeaders` (name, value, name, value, …) without the withheld names; the same array when none is present. */
export function withoutAuthHeaders(rawHeaders: string[]): string[] {
  let kept: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const withheld = WITHHELD_LENGTHS.has(name.length) && WITHHELD_HEADERS.has(name.toLowerCase());
    if (withheld && !kept) kept = rawHeaders.slice(0, i);
    else if (!withheld && kept) kept.push(name, rawHeaders[i + 1] ?? '');
  }
  return kept ?? rawHeaders;
}

/**
 * The SDK's Streamable HTTP server transport, answering Node requests.
 *
 * The SDK's own Node wrapper (`StreamableHTTPServerTransport`) does the same
 * Node ⇄ Fetch conversion with `@hono/node-server`, but builds a new request
 * listener on every request and takes the caller from `req.auth`, a property
 * added to each request. Under Express 5 every request object has a hidden
 * class of its own, so that one added property copies the class on every call
 * (see `request-state.ts` in @crossauth/auth). Here the listener is built once
 * per transport and the caller travels in a WeakMap.
 */
export class NodeMcpTransport extends WebStandardStreamableHTTPServerTransport {
  private readonly listener: (req: IncomingMessage, res: ServerResponse) => Promise<void>;

  constructor(options: WebStandardStreamableHTTPServerTransportOptions) {
    super(options);
    // overrideGlobalObjects: false keeps hono from replacing the global Request/Response.
    this.listener = getRequestListener((request, env) => this.handleRequest(request, contexts.get((env as HttpBindings).incoming)), {
      overrideGlobalObjects: false,
    });
  }

  /**
   * Closes the session, answering every request still waiting on it with
   * "Session not found" (404 for a JSON answer, a JSON-RPC error event on an
   * open SSE stream). The SDK's close only forgets them, so a request in flight
   * when the session was deleted (by its owner on another instance, say) would
   * never be answered. Requests that reach the transport after this, while an
   * await inside the SDK let the close slip in, are answered the same way.
   */
  override async close(): Promise<void> {
    const self = this as unknown as SdkStreams;
    if (self._closed) return;
    for (const [streamId, stream] of self._streamMapping) answerGone(self, streamId, stream);
    await super.close();
    self._streamMapping = new GoneStreams(self);
  }

  /** Answers one Node request (POST, GET or DELETE) on this transport. */
  async handleNodeRequest(req: IncomingMessage, res: ServerResponse, context: McpCallContext): Promise<void> {
    contexts.set(req, context);
    // hono builds the Fetch request's header list from rawHeaders. Node builds
    // req.headers lazily from rawHeaders too, so read it first: our audit and
    // hono's single-header lookups keep seeing every header.
    void req.headers;
    req.rawHeaders = withoutAuthHeaders(req.rawHeaders);
    await this.listener(req, res);
  }
}

/** The SDK transport's request bookkeeping (private fields; the mcp-server spec fails if they move). */
interface SdkStream {
  resolveJson?: (response: Response) => void;
  controller?: ReadableStreamDefaultController<Uint8Array>;
  encoder?: { encode(text: string): Uint8Array };
  cleanup(): void;
}
interface SdkStreams {
  _closed: boolean;
  _streamMapping: Map<string, SdkStream>;
  _requestToStreamMapping: Map<string | number, string>;
}

const SESSION_GONE = { code: -32001, message: 'Session not found' };

function answerGone(transport: SdkStreams, streamId: string, stream: SdkStream): void {
  if (stream.resolveJson) {
    stream.resolveJson(
      new Response(JSON.stringify({ jsonrpc: '2.0', error: SESSION_GONE, id: null }), { status: 404, headers: { 'content-type': 'application/json' } }),
    );
    return;
  }
  if (!stream.controller || !stream.encoder) return;
  for (const [id, mapped] of transport._requestToStreamMapping) {
    if (mapped !== streamId) continue;
    try {
      stream.controller.enqueue(stream.encoder.encode(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, error: SESSION_GONE })}\n\n`));
    } catch {
      // The client already went away.
    }
  }
}

/** Stands in for the stream map once closed: whatever registers is answered at once. */
class GoneStreams extends Map<string, SdkStream> {
  constructor(private readonly transport: SdkStreams) {
    super();
  }

  override set(streamId: string, stream: SdkStream): this {
    // The request ids are mapped right after, in the same synchronous step.
    queueMicrotask(() => {
      answerGone(this.transport, streamId, stream);
      stream.cleanup();
    });
    return this;
  }
}
