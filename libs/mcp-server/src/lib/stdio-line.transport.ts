import type { Readable, Writable } from 'node:stream';
import { parseJSONRPCMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/server';
import { callsExactNumbersTool, restoreExactArguments } from './exact-arguments';
import type { McpToolRegistry } from './mcp-tool-registry.service';
import { malformedToolCall } from './tool-call';

const MAX_LINE_BYTES = 4 * 1024 * 1024;

/**
 * MCP over stdio: one JSON-RPC message per line, as the SDK's
 * `StdioServerTransport` does, except that the line is still at hand when a
 * message calls an `exactNumbers` tool, so that tool sees the numbers as the
 * client wrote them (over HTTP the controller does the same with the body).
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private pending: Buffer | undefined;

  constructor(
    private readonly tools: McpToolRegistry,
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
  ) {}

  private readonly onData = (chunk: Buffer) => {
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    for (let end = this.pending.indexOf(0x0a); end !== -1; end = this.pending.indexOf(0x0a)) {
      const line = this.pending.toString('utf8', 0, end).replace(/\r$/, '');
      this.pending = this.pending.subarray(end + 1);
      if (line.trim() !== '') this.deliver(line);
    }
    if (this.pending.length > MAX_LINE_BYTES) {
      this.pending = undefined;
      this.onerror?.(new Error(`a line on stdin exceeded ${MAX_LINE_BYTES} bytes`));
    }
  };

  private readonly onError = (error: Error) => this.onerror?.(error);

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onError);
  }

  private deliver(line: string): void {
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(JSON.parse(line));
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const malformed = malformedToolCall(message);
    if (malformed) return void this.send(malformed);
    if (callsExactNumbersTool([message], this.tools)) restoreExactArguments(line, [message], this.tools);
    this.onmessage?.(message);
  }

  async close(): Promise<void> {
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.pending = undefined;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once('drain', resolve);
    });
  }
}
