import { createHash, createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/**
 * The e2e suite is black-box: it mints tokens from first principles (RFC 7519
 * with HMAC-SHA256 and the documented kid derivation), not with our library,
 * so a bug shared by minting and verifying code cannot hide.
 */
export function keyId(secret: string): string {
  return createHmac('sha256', secret).update('crossauth/kid/v1').digest().subarray(0, 12).toString('base64url');
}

export function newSecret(): string {
  return randomBytes(36).toString('base64url');
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * The orchestrator's default issuer identifier: the `iss` session-buddy trusts
 * when nothing else is configured. Specs that start an orchestrator on another
 * port and call session-buddy through it give it this issuer.
 */
export const ISSUER = 'http://127.0.0.1:8679';

export function mint(secret: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const body = { sub: 'alice', iss: ISSUER, aud: 'session-buddy', iat: now, exp: now + 300, jti: randomUUID(), type: 'access', scope: 'read write', ...claims };
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: keyId(secret), ...header })}.${b64(body)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export async function connect(mcpUrl: string, token: string): Promise<Client> {
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

export const structured = <T = Record<string, unknown>>(result: unknown): T => (result as { structuredContent: T }).structuredContent;
export const text = (result: unknown): string => (result as { content: Array<{ text: string }> }).content[0]?.text ?? '';

export const initializeBody = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'e2e-raw', version: '1' } },
};

export function postMcp(mcpUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * An RFC 9421 signature made from first principles (docs/auth-protocol.md):
 * HKDF-SHA256(secret, info "crossauth/request-signing/v1") as the key.
 */
export function signedHeaders(secret: string, method: string, url: string, body: string): Record<string, string> {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'crossauth/request-signing/v1', 32));
  const target = new URL(url);
  const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
  const params = `("@method" "@authority" "@path" "content-digest");created=${Math.floor(Date.now() / 1000)};nonce="${randomBytes(16).toString('base64url')}";keyid="${keyId(secret)}";alg="hmac-sha256"`;
  const base = [
    `"@method": ${method}`,
    `"@authority": ${target.host}`,
    `"@path": ${target.pathname}`,
    `"content-digest": ${digest}`,
    `"@signature-params": ${params}`,
  ].join('\n');
  return {
    'content-digest': digest,
    'signature-input': `sig1=${params}`,
    signature: `sig1=:${createHmac('sha256', key).update(base).digest('base64')}:`,
  };
}

/**
 * A POST to /mcp written byte by byte over TCP, for requests fetch cannot make
 * (fetch folds repeated headers into one). Reads until the server closes.
 */
export function rawPost(port: number, body: string, extraHeaders: string[]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const head = [
    'POST /mcp HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/json',
    'Accept: application/json, text/event-stream',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...extraHeaders,
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => socket.end(`${head}\r\n\r\n${body}`));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [headText = '', ...rest] = received.split('\r\n\r\n');
      const [statusLine = '', ...lines] = headText.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const at = line.indexOf(':');
        if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}
