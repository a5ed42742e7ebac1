// Baseline: the MCP SDK's own Streamable HTTP server with the same echo tool,
// no auth, no Nest. Everything else is measured as a ratio to this.
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { releaseAnsweredJsonStreams } from '@crossauth/mcp-server';
import express from 'express';
import { z } from 'zod';

const port = Number(process.env['PORT'] ?? 0);
const stateless = process.argv.includes('--stateless');
// --json: answer POSTs with one JSON body instead of an event stream (the SDK default).
const enableJsonResponse = process.argv.includes('--json');
const sessions = new Map<string, StreamableHTTPServerTransport>();

function makeServer(): McpServer {
  const server = new McpServer({ name: 'bare', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string().max(1000) } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return server;
}

const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/mcp', async (req, res) => {
  if (stateless) {
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
    return;
  }
  const id = req.header('mcp-session-id');
  let transport = id ? sessions.get(id) : undefined;
  if (!transport) {
    if (!isInitializeRequest(req.body)) return void res.status(400).end();
    const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), enableJsonResponse, onsessioninitialized: (sid) => void sessions.set(sid, created) });
    transport = created;
    await makeServer().connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
  // SDK 1.x keeps an entry per answered JSON request (typescript-sdk#2559); any
  // long-running JSON-mode server needs this release, and without it the
  // baseline would slow down as its heap grew (1.6 GiB in an earlier run),
  // flattering every ratio against it.
  if (enableJsonResponse) releaseAnsweredJsonStreams(transport);
});
const listener = app.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(listener.address() as { port: number }).port}\n`));
// Exit cleanly on SIGTERM so --cpu-prof can write its profile.
process.on('SIGTERM', () => process.exit(0));
