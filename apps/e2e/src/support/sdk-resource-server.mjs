// A third-party MCP server on the MCP TypeScript SDK that makes crossauth's
// orchestrator its authorization server, with no crossauth code: `jose`
// verifies the JWT access token (RFC 9068) against the JWKS, the issuer and
// the audience the authorization server's RFC 8414 metadata names, and the
// SDK's bearer middleware admits the request and serves the protected
// resource metadata clients discover it by.
//
// Usage: node sdk-resource-server.mjs AUTHORIZATION_SERVER PORT
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const [authorizationServer, port] = process.argv.slice(2);
const resource = new URL(`http://127.0.0.1:${port}/mcp`);
const metadata = await (await fetch(`${authorizationServer}/.well-known/oauth-authorization-server`)).json();
const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));

const verifier = {
  async verifyAccessToken(token) {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: metadata.issuer,
        audience: resource.href,
        typ: 'at+jwt',
        // Ed25519 is RFC 9864's name for what RFC 8037 called EdDSA; crossauth signs with either, or ES256.
        algorithms: ['Ed25519', 'EdDSA', 'ES256'],
      });
      const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      return {
        token,
        clientId: String(payload.client_id),
        scopes: String(payload.scope ?? '')
          .split(' ')
          .filter(Boolean),
        expiresAt: payload.exp,
        resource: new URL(aud),
        extra: { sub: payload.sub },
      };
    } catch (error) {
      throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token');
    }
  },
};

const app = express();
app.use(express.json());
app.use(mcpAuthMetadataRouter({ oauthMetadata: metadata, resourceServerUrl: resource }));
app.post(
  '/mcp',
  requireBearerAuth({ verifier, resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resource), expectedResource: resource }),
  async (req, res) => {
    const server = new McpServer({ name: 'sdk-third-party', version: '1.0.0' });
    // No input schema: the callback gets the request context alone.
    server.registerTool('whoami', { description: 'Who the bearer token was issued to, as this server verified it.' }, async (extra) => {
      const who = { client_id: extra.authInfo?.clientId, subject: extra.authInfo?.extra?.sub, scopes: [...(extra.authInfo?.scopes ?? [])].sort() };
      return { content: [{ type: 'text', text: JSON.stringify(who) }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  },
);
app.listen(Number(port), '127.0.0.1');
