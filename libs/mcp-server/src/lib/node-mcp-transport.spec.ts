import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/server';
import { NodeMcpTransport, withoutAuthHeaders } from './node-mcp-transport';

describe('withoutAuthHeaders', () => {
  it('drops credential and digest headers whatever their case, keeping the order of the rest', () => {
    const raw = [
      'Host',
      'h',
      'Authorization',
      'Bearer a.b.c',
      'Accept',
      'x',
      'SIGNATURE',
      'sig1=:AA:',
      'signature-input',
      'sig1=()',
      'Cookie',
      'c=1',
      'Proxy-Authorization',
      'Basic z',
      'Content-Digest',
      'sha-256=:AA:',
      'mcp-session-id',
      's',
    ];
    expect(withoutAuthHeaders(raw)).toEqual(['Host', 'h', 'Accept', 'x', 'mcp-session-id', 's']);
  });

  it('drops every copy of a repeated credential header', () => {
    expect(withoutAuthHeaders(['authorization', 'one', 'a', '1', 'authorization', 'two'])).toEqual(['a', '1']);
  });

  it('hands back the same array when there is nothing to drop', () => {
    const raw = ['host', 'h', 'digest', 'sha-256=AA', 'x-authorization-hint', 'kept', 'Signature-Inputs', 'x'];
    expect(withoutAuthHeaders(raw)).toBe(raw);
  });
});

describe('NodeMcpTransport', () => {
  let http: Server;
  let url: string;
  let seenHeaders: Record<string, string> | undefined;
  let seenAuth: unknown;
  let parsedAuthorization: string | undefined;

  beforeAll(async () => {
    const server = new McpServer({ name: 'spec', version: '1' });
    server.registerTool('headers', { description: 'reports what the SDK handed it' }, (ctx) => {
      seenHeaders = ctx.http?.req ? Object.fromEntries(ctx.http.req.headers) : undefined;
      seenAuth = ctx.http?.authInfo;
      return { content: [{ type: 'text', text: 'ok' }] };
    });
    const transport = new NodeMcpTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    http = createServer((req, res) => {
      void transport.handleNodeRequest(req, res, { authInfo: { token: '', clientId: 'kim', scopes: ['read'] } }).then(() => {
        parsedAuthorization = req.headers.authorization;
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  });

  afterAll(() => new Promise((resolve) => http.close(resolve)));

  it('keeps the bearer token and the signature out of the handler, which gets the verified caller instead', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln',
        signature: 'sig1=:c2ln:',
        'signature-input': 'sig1=("@method");created=1',
        'content-digest': 'sha-256=:AA:',
        'x-request-id': 'r-1',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'headers', arguments: {} } }),
    });
    expect(res.status).toBe(200);
    expect(seenHeaders).toMatchObject({ 'x-request-id': 'r-1', accept: 'application/json, text/event-stream' });
    expect(Object.keys(seenHeaders ?? {}).filter((name) => ['authorization', 'signature', 'signature-input', 'content-digest'].includes(name))).toEqual([]);
    expect(seenAuth).toMatchObject({ clientId: 'kim', scopes: ['read'] });
    // The parsed headers the guard and the audit read stay whole.
    expect(parsedAuthorization).toBe('Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln');
  });
});
