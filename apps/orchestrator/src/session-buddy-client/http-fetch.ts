import { setMaxListeners } from 'node:events';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { Agent as UndiciAgent, errors as undiciErrors, type Dispatcher } from 'undici';

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** An HTTP answer read whole, without the WHATWG Response around it. */
export interface PlainAnswer {
  readonly status: number;
  readonly contentType: string;
  /** `WWW-Authenticate`, when the answer has one. */
  readonly challenge: string | undefined;
  readonly text: string;
}

/** A `fetch` on keep-alive node:http sockets, a lean POST on undici's, and a way to close both. */
export interface HttpFetch {
  readonly fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  /**
   * POSTs a string body with plain headers and reads the answer whole: the
   * one-request exchanges of MCP 2026-07-28 need no Headers, Response or
   * abort signal, which cost more per call than the rest of the client.
   * Fails when the connection does, or when no byte arrives for `idleMs`.
   */
  readonly post: (url: URL, headers: Record<string, string>, body: string, idleMs: number) => Promise<PlainAnswer>;
  close(): void;
}

/** One header of undici's parsed answer headers as text (repeated ones joined, as HTTP allows). */
function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function responseHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  return headers;
}

/**
 * The orchestrator's `fetch` for the SDK client transport, on node:http.
 *
 * Why not the global fetch: on every call undici's fetch clones the request,
 * streams even a string body through `writeIterable` (separate writes for
 * head and body) and wraps the response in web streams; in the orchestrator's
 * CPU profile that was the largest single cost of the session-buddy hop. This
 * covers what the SDK transport sends (string bodies, plain headers, a
 * signal): JSON answers are read whole; event streams stay streams.
 *
 * Each request gets its own abort listener on the caller's signal, removed
 * when the response ends: the SDK passes one transport-wide signal to every
 * request, and listeners left on it would pile up until GC.
 */
export function createHttpFetch(maxSockets = 64): HttpFetch {
  const agents = { http: new Agent({ keepAlive: true, maxSockets }), https: new HttpsAgent({ keepAlive: true, maxSockets }) };
  const raisedLimit = new WeakSet<AbortSignal>();

  const fetchOverHttp = (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') return fetch(input, init);
    const url = input instanceof URL ? input : new URL(input);
    const headers: Record<string, string> = {};
    (init.headers instanceof Headers ? init.headers : new Headers(init.headers)).forEach((value, name) => (headers[name] = value));
    if (body) headers['content-length'] = String(Buffer.byteLength(body));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (signal && !raisedLimit.has(signal)) {
      // One listener per in-flight request is normal concurrency, not a leak.
      setMaxListeners(10_000, signal);
      raisedLimit.add(signal);
    }
    const secure = url.protocol === 'https:';
    return new Promise<Response>((resolve, reject) => {
      const send = secure ? httpsRequest : httpRequest;
      const req = send(url, { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http }, (res) => {
        const status = res.statusCode ?? 502;
        const meta = { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res) };
        if (NULL_BODY_STATUSES.has(status)) {
          res.resume();
          release();
          return resolve(new Response(null, meta));
        }
        if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
          // A stream stays cancellable (through the signal) until it ends.
          res.once('close', release);
          return resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, meta));
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          release();
          resolve(new Response(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), meta));
        });
        res.once('error', (error) => {
          release();
          reject(new TypeError('fetch failed', { cause: error }));
        });
      });
      const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      const release = () => signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (error) => {
        release();
        // Same shape as undici's failures, so callers can tell an unreachable peer.
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
      });
      req.end(body ?? undefined);
    });
  };

  // The 2026-07-28 exchanges go through undici's dispatcher, on sockets of their own.
  // Its raw handler API reads an answer with no IncomingMessage, stream or
  // Agent bookkeeping per request: ~0.6× node:http's client CPU per POST
  // (`npm run bench -- http-client`, docs/benchmarks.md). It also keeps a
  // socket idle for less than the server's keep-alive hint, so a reused socket
  // is not one the server is closing.
  const dispatcher = new UndiciAgent({ connections: maxSockets });

  const post = (url: URL, headers: Record<string, string>, body: string, idleMs: number): Promise<PlainAnswer> =>
    new Promise<PlainAnswer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 502;
      let contentType = '';
      let challenge: string | undefined;
      const handler: Dispatcher.DispatchHandler = {
        // Its presence selects undici's current handler API.
        onRequestStart: () => undefined,
        onResponseStart: (_controller, statusCode, answerHeaders) => {
          status = statusCode;
          contentType = headerText(answerHeaders['content-type']) ?? '';
          challenge = headerText(answerHeaders['www-authenticate']);
        },
        onResponseData: (_controller, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () =>
          resolve({ status, contentType, challenge, text: (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8') }),
        onResponseError: (_controller, error) => {
          const silent = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
          // Same shapes as before: a silent peer in words, a failed connection as fetch reports it.
          reject(silent ? new Error(`no answer within ${idleMs} ms`) : new TypeError('fetch failed', { cause: error }));
        },
      };
      dispatcher.dispatch(
        { origin: url.origin, path: url.pathname + url.search, method: 'POST', headers, body, headersTimeout: idleMs, bodyTimeout: idleMs },
        handler,
      );
    });

  return {
    fetch: fetchOverHttp,
    post,
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
      void dispatcher.destroy().catch(() => undefined);
    },
  };
}
