import { getEventListeners, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHttpFetch, type HttpFetch } from './http-fetch';

describe('createHttpFetch', () => {
  let server: Server;
  let base: string;
  let http: HttpFetch;
  const seen: Array<{ method?: string; headers: IncomingMessage['headers']; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body });
        if (req.url === '/json')
          return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'abc' }).end(JSON.stringify({ echo: body }));
        if (req.url === '/accepted') return void res.writeHead(202).end();
        if (req.url === '/no-content') return void res.writeHead(204).end();
        if (req.url === '/denied') return void res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end('{"reason":"expired"}');
        if (req.url === '/cut') return void res.socket?.destroy(); // the connection ends before any answer
        if (req.url === '/half') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          res.write('{"partial":');
          return void setTimeout(() => res.socket?.destroy(), 20); // an answer cut short of its length
        }
        if (req.url === '/two-challenges')
          return void res
            .writeHead(401, [
              ['www-authenticate', 'Bearer error="invalid_token"'],
              ['www-authenticate', 'DPoP algs="ES256"'],
            ])
            .end();
        if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('event: message\ndata: {"n":1}\n\n');
          return; // left open: the client must be able to cancel it
        }
        res.writeHead(404).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    http = createHttpFetch(4);
  });

  afterAll(async () => {
    http.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('sends method, headers and a string body in one request and reads a JSON answer whole', async () => {
    const res = await http.fetch(`${base}/json`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBe('abc');
    expect(await res.json()).toEqual({ echo: '{"a":1}' });
    const last = seen.at(-1);
    expect(last).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(last?.headers['authorization']).toBe('Bearer t');
    expect(last?.headers['content-length']).toBe('7');
  });

  it('answers null-body statuses without a body and keeps non-2xx answers readable (challenge header, reason)', async () => {
    expect((await http.fetch(`${base}/no-content`)).status).toBe(204);
    const accepted = await http.fetch(`${base}/accepted`, { method: 'POST', body: '{}' });
    expect(accepted.status).toBe(202);
    const denied = await http.fetch(`${base}/denied`);
    expect(denied.ok).toBe(false);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await denied.json()).toEqual({ reason: 'expired' });
  });

  it('fails like fetch when nothing listens (so callers can tell an unreachable peer)', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const failure = await http.fetch(`http://127.0.0.1:${port}/x`).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as TypeError).message).toBe('fetch failed');
    expect(String((failure as { cause?: unknown }).cause)).toMatch(/ECONNREFUSED/);
  });

  it('refuses an already aborted signal without sending anything', async () => {
    const before = seen.length;
    const controller = new AbortController();
    controller.abort(new Error('transport closed'));
    await expect(http.fetch(`${base}/json`, { signal: controller.signal })).rejects.toThrow('transport closed');
    expect(seen.length).toBe(before);
  });

  it('keeps an event stream open as a stream and cancels it when the signal aborts', async () => {
    const controller = new AbortController();
    const res = await http.fetch(`${base}/stream`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value as Uint8Array).toString()).toContain('data: {"n":1}');
    controller.abort(new Error('closing'));
    await expect(reader.read()).rejects.toThrow();
  });

  it('leaves no abort listener behind on a long-lived signal after many requests', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 50; i++) await (await http.fetch(`${base}/json`, { method: 'POST', body: String(i), signal: controller.signal })).text();
    await (await http.fetch(`${base}/denied`, { signal: controller.signal })).text();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  describe('post', () => {
    it('sends the body with its length and plain headers, and reads the answer whole', async () => {
      const answer = await http.post(new URL(`${base}/json`), { 'content-type': 'application/json', 'mcp-method': 'tools/call' }, '{"a":"é"}', 5_000);
      expect(answer).toEqual({ status: 200, contentType: 'application/json', challenge: undefined, text: JSON.stringify({ echo: '{"a":"é"}' }) });
      const last = seen.at(-1);
      expect(last?.headers['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')));
      expect(last?.headers['mcp-method']).toBe('tools/call');
    });

    it("keeps a refusal's status, challenge and body", async () => {
      const answer = await http.post(new URL(`${base}/denied`), {}, '{}', 5_000);
      expect(answer).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token"', text: '{"reason":"expired"}' });
    });

    it('reuses one kept-alive connection for calls made one after another', async () => {
      let connections = 0;
      const counted = () => connections++;
      server.on('connection', counted);
      try {
        for (let i = 0; i < 5; i++) expect((await http.post(new URL(`${base}/json`), {}, String(i), 5_000)).status).toBe(200);
      } finally {
        server.off('connection', counted);
      }
      expect(connections).toBeLessThanOrEqual(1);
    });

    it('joins repeated challenges into one value, as HTTP allows', async () => {
      const answer = await http.post(new URL(`${base}/two-challenges`), {}, '{}', 5_000);
      expect(answer.challenge).toBe('Bearer error="invalid_token", DPoP algs="ES256"');
    });

    it('fails like fetch when the connection ends before or during the answer, and never resolves half a body', async () => {
      for (const path of ['/cut', '/half']) {
        const failure = await http.post(new URL(`${base}${path}`), {}, '{}', 5_000).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(TypeError);
        expect((failure as TypeError).message).toBe('fetch failed');
      }
    });

    it('fails when no byte arrives within the idle limit, and when nothing listens', async () => {
      const silent = createServer(() => undefined).listen(0, '127.0.0.1');
      await once(silent, 'listening');
      const port = (silent.address() as { port: number }).port;
      await expect(http.post(new URL(`http://127.0.0.1:${port}/`), {}, '{}', 200)).rejects.toThrow(/no answer within 200 ms/);
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
      await expect(http.post(new URL(`http://127.0.0.1:${port}/`), {}, '{}', 200)).rejects.toThrow('fetch failed');
    });
  });
});
