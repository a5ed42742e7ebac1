import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { OAUTH_CLIENT_CREDENTIALS_EXTENSION } from './mcp-options';
import { AuthModule, type Principal } from '@crossauth/auth';
import { accessClaims, craftToken, randomSecret } from '@crossauth/auth/testing';
import { z } from 'zod';
import { McpServerModule } from './mcp-server.module';
import { McpTool } from './mcp-tool.decorator';
import { McpToolRegistry } from './mcp-tool-registry.service';
import { tokenArgument } from './tool-call';

const echoInput = z.object({ text: z.string().min(1).max(5), times: z.number().int().positive().optional() });

@Injectable()
class ModernFixtureTools {
  @McpTool({ name: 'ping', description: 'liveness', public: true, annotations: { readOnlyHint: true } })
  ping() {
    return 'pong';
  }

  @McpTool({ name: 'whoami', description: 'the caller' })
  whoami(_input: unknown, principal: Principal) {
    return { subject: principal.subject, scopes: principal.scopes };
  }

  @McpTool({ name: 'echo', description: 'needs read', scopes: ['read'], input: echoInput })
  echo(input: { text: string; times?: number }) {
    return input.text.repeat(input.times ?? 1);
  }

  @McpTool({ name: 'erase', description: 'needs write and admin', scopes: ['write', 'admin'] })
  erase() {
    return 'erased';
  }
}

const secret = randomSecret();
const token = (claims: Record<string, unknown> = {}) => craftToken(accessClaims({ aud: 'fixture', ...claims }), secret);
const MODERN = '2026-07-28';
const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

let app: INestApplication;
let url: string;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthModule.forRoot({
        secret,
        issuer: 'orchestrator',
        allowedIssuers: ['orchestrator'],
        audiences: ['fixture'],
        resourceMetadataUrl: 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp',
      }),
      McpServerModule.forRoot({
        name: 'fixture',
        version: '1.0.0',
        resourceUrl: 'http://127.0.0.1/mcp',
        authorizationServers: ['http://127.0.0.1:1/'],
        instructions: 'Fixture tools.',
        extensions: { [OAUTH_CLIENT_CREDENTIALS_EXTENSION]: {} },
      }),
    ],
    providers: [ModernFixtureTools],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false, bodyParser: false });
  await app.listen(0, '127.0.0.1');
  url = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/mcp`;
});

afterAll(() => app.close());

/** A 2026-07-28 request with its standard headers; `headers` override or remove (undefined) them. */
function modern(method: string, params: Record<string, unknown>, bearer: string | undefined, headers: Record<string, string | undefined> = {}) {
  const name = typeof params['name'] === 'string' ? params['name'] : undefined;
  const all: Record<string, string | undefined> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
    ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    ...headers,
  };
  const sent = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return fetch(url, { method: 'POST', headers: sent, body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: envelope } }) });
}

async function sdkClient(bearer: string, mode: 'auto' | { pin: string }): Promise<Client> {
  const client = new Client({ name: 'spec', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
  return client;
}

describe('MCP 2026-07-28 on /mcp (SDK v2 client)', () => {
  it('negotiates the modern era, lists what the scopes allow and calls a tool, with no session', async () => {
    const client = await sdkClient(token({ sub: 'kim', scope: 'read' }), 'auto');
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
      expect(client.getInstructions()).toBe('Fixture tools.');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'ping', 'whoami']);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'ab', times: 2 } });
      expect(result.content).toEqual([{ type: 'text', text: 'abab' }]);
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      expect(who.structuredContent).toEqual({ subject: 'kim', scopes: ['read'] });
    } finally {
      await client.close();
    }
  });

  it('hides a tool the caller lacks scopes for from tools/list and refuses calling it with 403 naming every missing scope', async () => {
    const bearer = token({ sub: 'kim', scope: 'write' });
    const list = (await (await modern('tools/list', {}, bearer)).json()) as { result: { tools: Array<{ name: string }> } };
    expect(list.result.tools.map((t) => t.name).sort()).toEqual(['ping', 'whoami']);
    const res = await modern('tools/call', { name: 'erase', arguments: {} }, bearer);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(res.headers.get('www-authenticate')).toContain('scope="admin"');
    expect(res.headers.get('www-authenticate')).toContain('resource_metadata=');
  });

  it('answers 401 with a challenge to a request without a token, before looking at the body', async () => {
    const res = await modern('tools/call', { name: 'echo', arguments: { text: 'a' } }, undefined);
    expect(res.status).toBe(401);
    // Every scope the tools need, as the metadata's scopes_supported, so one authorization can ask for them.
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer scope="admin read write", resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/mcp"',
    );
  });

  it('names what failed in a 401 for a bad token, with the scope and metadata too', async () => {
    const res = await modern('tools/list', {}, token({ aud: 'someone-else' }));
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="wrong_audience: /);
    expect(challenge).toContain('scope="admin read write"');
  });

  it('refuses an Mcp-Name header naming a public tool while the body calls a protected one (400 -32020, the tool never runs)', async () => {
    const res = await modern('tools/call', { name: 'erase', arguments: {} }, token({ scope: 'read' }), { 'mcp-name': 'ping' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32020);
    expect(body.error.message).toContain('Mcp-Name');
  });

  it('refuses an Mcp-Method header that disagrees with the body', async () => {
    const res = await modern('tools/call', { name: 'ping', arguments: {} }, token(), { 'mcp-method': 'tools/list' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });

  it.each([
    ['MCP-Protocol-Version', { 'mcp-protocol-version': undefined }],
    ['Mcp-Method', { 'mcp-method': undefined }],
    ['Mcp-Name', { 'mcp-name': undefined }],
  ])('refuses a tools/call without the %s header', async (name, headers) => {
    const res = await modern('tools/call', { name: 'echo', arguments: { text: 'a' } }, token({ scope: 'read' }), headers);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32020);
    expect(body.error.message).toContain(name);
  });

  it('refuses a protocol version header that disagrees with the envelope', async () => {
    const res = await modern('tools/list', {}, token(), { 'mcp-protocol-version': '2025-11-25' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });

  it('refuses an envelope naming a revision it does not serve, listing the one it does', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}`, 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/list',
        params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32022, message: expect.stringContaining('2099-01-01'), data: { supported: [MODERN], requested: '2099-01-01' } },
    });
  });

  it('refuses an envelope without the client capabilities key', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number; message: string } }).error).toEqual({
      code: -32602,
      message: expect.stringContaining('clientCapabilities'),
      data: expect.anything(),
    });
  });

  it('refuses a modern request that is not JSON (415)', async () => {
    const res = await modern('tools/list', {}, token(), { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
  });

  it('answers methods the revision dropped (initialize, ping) and unknown ones with -32601', async () => {
    for (const method of ['initialize', 'ping', 'resources/list']) {
      const res = await modern(method, {}, token());
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32601);
    }
  });

  it('answers an unknown tool and malformed call params with -32602 in-band', async () => {
    const unknown = (await (await modern('tools/call', { name: 'nope', arguments: {} }, token())).json()) as { error: { code: number; message: string } };
    expect(unknown.error).toEqual({ code: -32602, message: 'Tool nope not found' });
    const malformed = (await (await modern('tools/call', { name: 'echo', arguments: [1] }, token({ scope: 'read' }))).json()) as {
      error: { code: number; message: string };
    };
    expect(malformed.error.code).toBe(-32602);
    expect(malformed.error.message).toContain('params.arguments must be an object');
  });

  it('reports invalid arguments as a tool error naming the field, and does not run the tool', async () => {
    const res = await modern('tools/call', { name: 'echo', arguments: { text: 'far too long' } }, token({ scope: 'read' }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { isError: boolean; content: Array<{ text: string }>; resultType: string } };
    expect(body.result.isError).toBe(true);
    expect(body.result.resultType).toBe('complete');
    expect(body.result.content[0]?.text).toMatch(/^Input validation error: Invalid arguments for tool echo: text: /);
  });

  it('refuses a JSON-RPC batch that contains a modern request', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } }]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32600);
  });

  it('acknowledges a modern notification with 202 and no body', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token()}`,
        'mcp-protocol-version': MODERN,
        'mcp-method': 'notifications/cancelled',
      },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: envelope } }),
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
  });

  it('fails to connect a client pinned to a revision this server does not offer', async () => {
    await expect(sdkClient(token(), { pin: '2099-01-01' })).rejects.toThrow();
  });
});

describe('wire parity with the SDK v2 McpServer', () => {
  /** The same tools, served by the SDK's own createMcpHandler (one McpServer per request). */
  function sdkHandler(registry: McpToolRegistry) {
    return createMcpHandler(
      () => {
        const server = new McpServer(
          { name: 'fixture', version: '1.0.0' },
          { capabilities: { tools: { listChanged: false }, extensions: { [OAUTH_CLIENT_CREDENTIALS_EXTENSION]: {} } }, instructions: 'Fixture tools.' },
        );
        for (const tool of registry.list()) {
          const inputSchema = tool.isPublic ? tool.input : tool.input.extend({ token: tokenArgument });
          server.registerTool(
            tool.name,
            { description: tool.description, inputSchema, ...(tool.annotations ? { annotations: tool.annotations } : {}) },
            async () => ({ content: [{ type: 'text', text: 'unused' }] }),
          );
        }
        return server;
      },
      { legacy: 'reject' },
    );
  }

  it.each(['server/discover', 'tools/list'])('answers %s exactly as the SDK does', async (method) => {
    const registry = app.get(McpToolRegistry);
    const bearer = token({ scope: 'read write admin' });
    const ours = await (await modern(method, {}, bearer)).json();
    const request = new Request('http://127.0.0.1/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: { _meta: envelope } }),
    });
    const theirs = await (await sdkHandler(registry).fetch(request)).json();
    expect(ours).toEqual(theirs);
    if (method === 'server/discover')
      expect(ours).toMatchObject({ result: { capabilities: { extensions: { 'io.modelcontextprotocol/oauth-client-credentials': {} } } } });
  });
});

describe('Mcp-Name in Base64', () => {
  const b64 = (text: string) => `=?base64?${Buffer.from(text).toString('base64')}?=`;

  it('accepts the sentinel form of the tool name', async () => {
    const res = await modern('tools/call', { name: 'ping', arguments: {} }, token(), { 'mcp-name': b64('ping') });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { content: Array<{ text: string }> } }).result.content[0]?.text).toBe('pong');
  });

  it.each([
    ['another name', b64('ping')],
    ['a non-canonical payload', '=?base64?cGluZw?='],
  ])('refuses a sentinel carrying %s', async (_what, header) => {
    const res = await modern('tools/call', { name: 'erase', arguments: {} }, token({ scope: 'write admin' }), { 'mcp-name': header });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });
});
