// Baseline for MCP 2026-07-28: the SDK v2's own createMcpHandler (a fresh
// McpServer per request, its documented pattern) with the same echo tool, no
// auth, mounted on node:http with the SDK's toNodeHandler. legacy: 'reject',
// so it serves only the revision being compared.
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { z } from 'zod';

const port = Number(process.env['PORT'] ?? 0);
const handler = createMcpHandler(
  () => {
    const server = new McpServer({ name: 'bare-v2', version: '1.0.0' });
    server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string().max(1000) }) }, async ({ text }) => ({
      content: [{ type: 'text', text }],
    }));
    return server;
  },
  { legacy: 'reject' },
);
const listener = createServer(toNodeHandler(handler)).listen(port, '127.0.0.1', () =>
  process.stdout.write(`listening ${(listener.address() as { port: number }).port}\n`),
);
process.on('SIGTERM', () => process.exit(0));
