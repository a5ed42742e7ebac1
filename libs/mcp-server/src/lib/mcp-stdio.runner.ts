import { Injectable, Logger } from '@nestjs/common';
import { McpServerFactory } from './mcp-server.factory';
import { McpToolRegistry } from './mcp-tool-registry.service';
import { StdioLineTransport } from './stdio-line.transport';

/**
 * Serves the tools over stdio for desktop clients. There are no headers, so
 * each protected call carries its token in the `token` argument.
 */
@Injectable()
export class McpStdioRunner {
  private readonly logger = new Logger(McpStdioRunner.name);

  constructor(
    private readonly factory: McpServerFactory,
    private readonly tools: McpToolRegistry,
  ) {}

  /** Resolves when the client disconnects (stdin closes). */
  async run(): Promise<void> {
    const server = this.factory.create('stdio');
    const transport = new StdioLineTransport(this.tools);
    const closed = new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
      process.stdin.once('end', () => resolve());
    });
    await server.connect(transport);
    this.logger.log({ event: 'mcp_stdio_ready' });
    await closed;
    await server.close().catch(() => undefined);
  }
}
