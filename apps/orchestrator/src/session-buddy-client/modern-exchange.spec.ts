import { DownstreamHttpError, DownstreamRpcError, modernRequest, offersModern, readModernResult, toCallToolResult } from './modern-exchange';

const json = (status: number, body: unknown, challenge?: string) => ({ status, contentType: 'application/json', challenge, text: JSON.stringify(body) });
const stream = (text: string) => ({ status: 200, contentType: 'text/event-stream', challenge: undefined, text });

describe('modernRequest', () => {
  it('carries the envelope in _meta and mirrors method and tool name in the standard headers', () => {
    const { body, headers } = modernRequest(4, 'tools/call', { name: 'start', arguments: { project: 'x' } }, { name: 'orchestrator', version: '1' });
    const parsed = JSON.parse(body) as { id: number; method: string; params: { name: string; _meta: Record<string, unknown> } };
    expect(parsed).toMatchObject({
      id: 4,
      method: 'tools/call',
      params: { name: 'start', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
    });
    expect(headers).toMatchObject({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'start' });
  });

  it('sends a name that is not plain ASCII in the Base64 form, and no Mcp-Name for methods without one', () => {
    expect(modernRequest(1, 'tools/call', { name: 'café' }, { name: 'o', version: '1' }).headers['mcp-name']).toBe(
      `=?base64?${Buffer.from('café').toString('base64')}?=`,
    );
    expect(modernRequest(1, 'server/discover', {}, { name: 'o', version: '1' }).headers['mcp-name']).toBeUndefined();
  });
});

describe('readModernResult', () => {
  it('returns the result of a JSON answer', () => {
    expect(readModernResult(json(200, { jsonrpc: '2.0', id: 3, result: { resultType: 'complete', content: [] } }), 3)).toEqual({
      resultType: 'complete',
      content: [],
    });
  });

  it('finds its result in an event stream after other messages', () => {
    const events = `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\nevent: message\ndata: {"jsonrpc":"2.0","id":9,"result":{"ok":true}}\n\n`;
    expect(readModernResult(stream(events), 9)).toEqual({ ok: true });
  });

  it('turns an HTTP refusal into DownstreamHttpError with the status, challenge and JSON-RPC code', () => {
    const thrown = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return error;
      }
      throw new Error('did not throw');
    };
    expect(thrown(() => readModernResult(json(401, { error: 'invalid_token' }, 'Bearer error="invalid_token"'), 1))).toMatchObject({
      status: 401,
      challenge: 'Bearer error="invalid_token"',
    });
    expect(thrown(() => readModernResult(json(400, { jsonrpc: '2.0', id: 1, error: { code: -32022, message: 'Unsupported' } }), 1))).toMatchObject({
      status: 400,
      rpcCode: -32022,
    });
    expect(() => readModernResult(json(400, {}), 1)).toThrow(DownstreamHttpError);
  });

  it('turns an in-band JSON-RPC error into DownstreamRpcError with its message', () => {
    const run = () => readModernResult(json(200, { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'Tool nope not found' } }), 1);
    expect(run).toThrow(DownstreamRpcError);
    expect(run).toThrow('Tool nope not found');
  });

  it('refuses an answer that is neither a result nor an error, and a stream without its id', () => {
    expect(() => readModernResult({ status: 200, contentType: 'application/json', challenge: undefined, text: 'not json' }, 1)).toThrow(DownstreamHttpError);
    expect(() => readModernResult(stream(`data: {"jsonrpc":"2.0","id":2,"result":{}}\n\n`), 1)).toThrow(DownstreamHttpError);
  });
});

describe('toCallToolResult', () => {
  it('drops the revision envelope and the server identity, keeping other _meta', () => {
    const result = toCallToolResult({
      content: [{ type: 'text', text: 'hi' }],
      isError: true,
      resultType: 'complete',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'sb' }, reason: 'x' },
    });
    expect(result).toEqual({ content: [{ type: 'text', text: 'hi' }], isError: true, _meta: { reason: 'x' } });
    expect(toCallToolResult({ content: [], resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': {} } })).toEqual({ content: [] });
  });

  it('refuses a result that asks for more input', () => {
    expect(toCallToolResult({ resultType: 'input_required', inputRequests: {} })).toBeUndefined();
  });
});

describe('offersModern', () => {
  it('is true only when the discover answer lists 2026-07-28', () => {
    expect(offersModern({ supportedVersions: ['2026-07-28'] })).toBe(true);
    expect(offersModern({ supportedVersions: ['2025-11-25'] })).toBe(false);
    expect(offersModern({})).toBe(false);
  });
});
