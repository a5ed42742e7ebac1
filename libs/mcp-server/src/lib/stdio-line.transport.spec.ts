import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { isExactNumber } from '@crossauth/auth';
import { McpToolRegistry } from './mcp-tool-registry.service';
import { StdioLineTransport } from './stdio-line.transport';

function setup() {
  const tools = new McpToolRegistry(undefined as never, undefined as never, undefined as never, undefined as never);
  tools.add({ name: 'exact', description: 'keeps numbers', exactNumbers: true }, async () => 'ok');
  tools.add({ name: 'plain', description: 'parses numbers' }, async () => 'ok');
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const transport = new StdioLineTransport(tools, stdin, stdout);
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  transport.onmessage = (m) => messages.push(m);
  transport.onerror = (e) => errors.push(e);
  return { transport, stdin, stdout, messages, errors };
}

const call = (id: number, name: string, args: string) =>
  `{"jsonrpc": "2.0", "id": ${id}, "method": "tools/call", "params": {"name": "${name}", "arguments": ${args}}}\n`;
const argsOf = (m: JSONRPCMessage | undefined) => (m as unknown as { params: { arguments: Record<string, unknown> } }).params.arguments;

describe('StdioLineTransport', () => {
  it('hands an exactNumbers tool the numbers as written, and other tools parsed numbers', async () => {
    const { transport, stdin, messages } = setup();
    await transport.start();
    stdin.write(call(1, 'exact', '{"score": 85.0, "ns": 1764633600123456789}'));
    stdin.write(call(2, 'plain', '{"score": 85.0}'));
    await new Promise((r) => setImmediate(r));
    const exact = argsOf(messages[0]);
    expect(isExactNumber(exact['score']) && (exact['score'] as { value: string }).value).toBe('85.0');
    expect(isExactNumber(exact['ns']) && (exact['ns'] as { value: string }).value).toBe('1764633600123456789');
    expect(argsOf(messages[1])['score']).toBe(85);
  });

  it('joins a message split across chunks, skips blank lines, and reports a bad line without losing the next', async () => {
    const { transport, stdin, messages, errors } = setup();
    await transport.start();
    const line = call(3, 'plain', '{"a": 1}');
    stdin.write(line.slice(0, 10));
    stdin.write(`${line.slice(10)}\n{not json}\n{"jsonrpc": "1.0"}\n`);
    stdin.write(call(4, 'plain', '{}'));
    await new Promise((r) => setImmediate(r));
    expect(messages.map((m) => (m as { id: number }).id)).toEqual([3, 4]);
    expect(errors).toHaveLength(2);
  });

  it('writes each message as one line, and stops reading when closed', async () => {
    const { transport, stdin, stdout, messages } = setup();
    let closed = false;
    transport.onclose = () => (closed = true);
    await transport.start();
    await transport.send({ jsonrpc: '2.0', id: 9, result: {} });
    expect(stdout.read().toString()).toBe('{"jsonrpc":"2.0","id":9,"result":{}}\n');
    await transport.close();
    stdin.write(call(5, 'plain', '{}'));
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
    expect(messages).toHaveLength(0);
  });
});
