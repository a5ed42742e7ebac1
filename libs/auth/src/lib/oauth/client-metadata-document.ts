import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { redirectUriProblem } from './redirect-uri';

/** A client's metadata as its Client ID Metadata Document states it, checked. */
export interface ClientMetadataDocument {
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly redirectUris: readonly string[];
  /** How long it may be cached, within the caller's bounds. */
  readonly maxAgeSeconds: number;
}

export interface ClientMetadataFetchOptions {
  /** Development only: loopback addresses may serve documents (still over HTTPS). */
  readonly allowLoopback: boolean;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly minMaxAgeSeconds: number;
  readonly maxMaxAgeSeconds: number;
  /** Trust anchors for the document's TLS certificate; the system's when absent. */
  readonly ca?: string | readonly string[];
}

export const CLIENT_METADATA_DEFAULTS: Omit<ClientMetadataFetchOptions, 'allowLoopback'> = {
  timeoutMs: 5_000,
  maxBytes: 5 * 1024,
  minMaxAgeSeconds: 60,
  maxMaxAgeSeconds: 86_400,
};

/** Why a Client ID Metadata Document cannot be used; the message is safe to show the person and the client's developer. */
export class ClientMetadataError extends Error {
  override readonly name = 'ClientMetadataError';
}

/** Whether a `client_id` names a metadata document (an https URL) rather than a registered client. */
export function isClientMetadataUrl(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/** Why this `client_id` cannot be a metadata document URL (draft-ietf-oauth-client-id-metadata-document §3), or undefined. */
export function clientMetadataUrlProblem(clientId: string): string | undefined {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'the client_id is not a URL';
  }
  if (url.protocol !== 'https:') return 'a client_id URL must be https';
  if (url.username || url.password) return 'a client_id URL may not carry credentials';
  if (url.hash || clientId.includes('#')) return 'a client_id URL may not have a fragment';
  if (url.pathname === '/' || url.pathname === '') return 'a client_id URL must have a path';
  if (/\/\.\.?(\/|$)/.test(clientId.slice(url.origin.length))) return 'a client_id URL may not have . or .. path segments';
  if (url.href !== clientId) return 'a client_id URL must be written in its normal form';
  if (clientId.length > 2048) return 'the client_id URL is too long';
  return undefined;
}

/** Why connecting to this address is refused: anything but a public unicast address, and loopback only when allowed. */
function addressProblem(address: string, allowLoopback: boolean): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return `${address} is not an IP address`;
  }
  const range = parsed.range();
  if (range === 'unicast' || (allowLoopback && range === 'loopback')) return undefined;
  return `it resolves to a ${range} address, which is not fetched`;
}

/** A DNS lookup that refuses private, loopback, link-local and other non-public answers, so what is checked is what is connected to. */
function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.map((a) => addressProblem(a.address, allowLoopback)).find(Boolean);
      if (refused || addresses.length === 0) return callback(new ClientMetadataError(refused ?? 'its host has no address'), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/** `max-age` from Cache-Control, clamped; no-store and no-cache keep it for the minimum. */
function maxAgeOf(cacheControl: string | undefined, options: ClientMetadataFetchOptions): number {
  const directives = (cacheControl ?? '').toLowerCase();
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/.exec(directives);
  const asked = /no-store|no-cache/.test(directives) ? 0 : match ? Number(match[1]) : 300;
  return Math.min(options.maxMaxAgeSeconds, Math.max(options.minMaxAgeSeconds, asked));
}

/** GETs the document: HTTPS, guarded addresses, no redirects, a size cap and a deadline. */
function fetchDocument(url: URL, options: ClientMetadataFetchOptions): Promise<{ body: string; cacheControl: string | undefined }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const refused = addressProblem(host, options.allowLoopback);
    if (refused) return Promise.reject(new ClientMetadataError(refused));
  }
  return new Promise((resolve, reject) => {
    const fail = (message: string) => reject(new ClientMetadataError(message));
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json' },
        lookup: guardedLookup(options.allowLoopback),
        ...(options.ca ? { ca: options.ca as string[] } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.destroy();
          return fail(`it answered ${status}, a redirect, which is not followed`);
        }
        if (status !== 200) {
          res.destroy();
          return fail(`it answered HTTP ${status}`);
        }
        const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        if (type !== 'application/json') {
          res.destroy();
          return fail(`its content type is ${type || 'missing'}, not application/json`);
        }
        if (Number(res.headers['content-length'] ?? 0) > options.maxBytes) {
          res.destroy();
          return fail(`it is larger than ${options.maxBytes} bytes`);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            res.destroy();
            return fail(`it is larger than ${options.maxBytes} bytes`);
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8'), cacheControl: res.headers['cache-control'] }));
        res.on('error', (error) => fail(`reading it failed: ${error.message}`));
      },
    );
    req.on('error', (error) => {
      if (error instanceof ClientMetadataError) return reject(error);
      fail(
        error.name === 'TimeoutError' || error.name === 'AbortError'
          ? `it did not answer within ${options.timeoutMs} ms`
          : `it could not be fetched: ${error.message}`,
      );
    });
    req.end();
  });
}

/** The fields a document may not carry: it describes a public client or one with keys, never a shared secret. */
const SECRET_FIELDS = ['client_secret', 'client_secret_expires_at'];

/**
 * Fetches and checks a Client ID Metadata Document (the MCP authorization
 * spec's preferred client registration; draft-ietf-oauth-client-id-metadata-document):
 * its `client_id` must equal the URL it came from, its `redirect_uris` are
 * the only ones the client may use, and the client authenticates with
 * `none` (the only method offered to such clients here). Refusals are
 * {@link ClientMetadataError}s saying what was wrong.
 */
export async function fetchClientMetadataDocument(clientId: string, options: ClientMetadataFetchOptions): Promise<ClientMetadataDocument> {
  const problem = clientMetadataUrlProblem(clientId);
  if (problem) throw new ClientMetadataError(problem);
  const { body, cacheControl } = await fetchDocument(new URL(clientId), options);
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    throw new ClientMetadataError('it is not JSON');
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) throw new ClientMetadataError('it is not a JSON object');
  const fields = document as Record<string, unknown>;
  if (fields['client_id'] !== clientId) throw new ClientMetadataError('its client_id is not exactly the URL it was fetched from');
  const redirectUris = fields['redirect_uris'];
  if (!Array.isArray(redirectUris) || redirectUris.length === 0 || redirectUris.length > 20 || !redirectUris.every((u) => typeof u === 'string'))
    throw new ClientMetadataError('redirect_uris must be a list of 1 to 20 URIs');
  const badUri = (redirectUris as string[]).map(redirectUriProblem).find(Boolean);
  if (badUri) throw new ClientMetadataError(badUri);
  if (SECRET_FIELDS.some((f) => f in fields)) throw new ClientMetadataError('it carries a client secret, which a metadata document may not');
  const method = fields['token_endpoint_auth_method'] ?? 'none';
  if (method !== 'none')
    throw new ClientMetadataError(`token_endpoint_auth_method ${String(method).slice(0, 40)} is not offered to metadata-document clients; use none`);
  const grants = fields['grant_types'];
  if (grants !== undefined && (!Array.isArray(grants) || !grants.includes('authorization_code')))
    throw new ClientMetadataError('grant_types must include authorization_code');
  const responseTypes = fields['response_types'];
  if (responseTypes !== undefined && (!Array.isArray(responseTypes) || responseTypes.some((t) => t !== 'code')))
    throw new ClientMetadataError('response_types may only be code');
  const name = fields['client_name'];
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > 100))
    throw new ClientMetadataError('client_name must be a string of 1 to 100 characters');
  return {
    clientId,
    clientName: typeof name === 'string' ? name.trim() : undefined,
    redirectUris: redirectUris as string[],
    maxAgeSeconds: maxAgeOf(cacheControl, options),
  };
}
