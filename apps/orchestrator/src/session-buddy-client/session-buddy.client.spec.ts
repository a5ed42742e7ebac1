import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { resolveAuthOptions } from '@crossauth/auth';
import { randomSecret } from '@crossauth/auth/testing';
import { ToolError } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from '../config/env.schema';
import type { DownstreamTokenCache } from './downstream-token.cache';
import { SessionBuddyClient } from './session-buddy.client';

/** A 2026-07-28 session-buddy stand-in: offers the revision and answers every tool call with the caller's token. */
async function fakeSessionBuddy(): Promise<{ server: Server; url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      const message = JSON.parse(body) as { id: number; method: string };
      const result =
        message.method === 'server/discover'
          ? { supportedVersions: ['2026-07-28'], capabilities: {}, serverInfo: { name: 'sb', version: '1' } }
          : { resultType: 'complete', content: [{ type: 'text', text: 'ok' }], structuredContent: { token: req.headers.authorization } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, bodies };
}

/** Tokens as the authorization server would answer: refused for one subject, after a delay, so calls overlap. */
function tokens(): DownstreamTokenCache {
  const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    tokenFor: async (subject: string) => {
      await later(subject === 'refused' ? 30 : 5);
      if (subject === 'refused')
        throw new ToolError('the authorization server refused the token exchange for session-buddy: invalid_scope (scope is empty)', 'downstream_unauthorized');
      return `token-of-${subject}`;
    },
    invalidate: () => undefined,
  } as unknown as DownstreamTokenCache;
}

describe('SessionBuddyClient', () => {
  let sb: Awaited<ReturnType<typeof fakeSessionBuddy>>;
  let client: SessionBuddyClient;
  beforeEach(async () => {
    sb = await fakeSessionBuddy();
    const config = {
      sessionBuddy: { url: sb.url, retries: 0, protocol: 'auto', signRequests: false },
      auth: { callerId: 'orchestrator' },
    } as unknown as OrchestratorConfig;
    client = new SessionBuddyClient(
      tokens(),
      config,
      resolveAuthOptions({ secret: randomSecret(), issuer: 'orchestrator', allowedIssuers: ['orchestrator'], audiences: ['orchestrator'] }),
    );
  });
  afterEach(async () => {
    await client.onModuleDestroy();
    sb.server.close();
  });

  it("answers a call whose era probe was shared with another caller's refused one", async () => {
    // The first call starts the server/discover probe with credentials the authorization server refuses;
    // the second arrives while it is in flight. The refusal belongs to the first caller alone.
    const refused = client.callTool('refused', [], 'health_check', {});
    const frank = client.callTool('frank', ['write'], 'start', { project: 'p' });
    await expect(refused).rejects.toThrow(/invalid_scope/);
    expect((await frank).structuredContent).toEqual({ token: 'Bearer token-of-frank' });
  });

  it('still fails the caller whose own credentials were refused', async () => {
    await expect(client.callTool('refused', ['read'], 'status', {})).rejects.toBeInstanceOf(ToolError);
    // The era was not decided by the refusal: the next caller probes and is served.
    expect((await client.callTool('frank', ['read'], 'status', {})).isError).toBeUndefined();
    expect(sb.bodies.filter((b) => b.includes('server/discover'))).toHaveLength(1);
  });
});
