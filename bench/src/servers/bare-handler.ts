// The bare SDK's Streamable HTTP handling with the echo tool and no auth: the
// baseline. One copy, used by the plain Express server and by the minimal Nest
// app, so the two differ only in the framework around it.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { releaseAnsweredJsonStreams } from './json-response-streams';
import { z } from 'zod';

function makeServer(name: string): McpServer {
  const server = new McpServer({ name, version: '1.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string().max(1000) } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

/** Returns the POST /mcp handler; `enableJsonResponse` answers with one JSON body instead of an event stream (the SDK default). */
export function bareMcpHandler(name: string, options: { stateless: boolean; enableJsonResponse: boolean }) {
  const { stateless, enableJsonResponse } = options;
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  return async (req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> => {
    if (stateless) {
      const server = makeServer(name);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      if (!isInitializeRequest(body)) return void res.writeHead(400).end();
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse,
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      transport = created;
      await makeServer(name).connect(transport);
    }
    await transport.handleRequest(req, res, body);
    // SDK 1.x keeps an entry per answered JSON request (typescript-sdk#2559); any
    // long-running JSON-mode server needs this release, and without it the
    // baseline would slow down as its heap grew (1.6 GiB in an earlier run),
    // flattering every ratio against it.
    if (enableJsonResponse) releaseAnsweredJsonStreams(transport);
  };
}
