import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loopbackCertificate } from '../../testing';
import { CLIENT_METADATA_DEFAULTS, clientMetadataUrlProblem, fetchClientMetadataDocument, type ClientMetadataFetchOptions } from './client-metadata-document';

type Route = (base: string) => { status?: number; headers?: Record<string, string>; body?: string; hang?: boolean };

describe('Client ID Metadata Documents', () => {
  let server: Server;
  let base: string;
  let options: ClientMetadataFetchOptions;
  const routes = new Map<string, Route>();
  const doc = (path: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ client_id: `${base}${path}`, client_name: 'Example Desktop', redirect_uris: ['http://127.0.0.1/callback'], ...extra });

  beforeAll(async () => {
    const { caCert, cert, key } = await loopbackCertificate();
    server = createServer({ key, cert }, (req, res) => {
      const route = routes.get(req.url ?? '');
      if (!route) return void res.writeHead(404).end();
      const answer = route(base);
      if (answer.hang) return;
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    options = { ...CLIENT_METADATA_DEFAULTS, allowLoopback: true, ca: caCert };
    routes.set('/good', () => ({ body: doc('/good'), headers: { 'cache-control': 'public, max-age=120' } }));
    routes.set('/long-cache', () => ({ body: doc('/long-cache'), headers: { 'cache-control': 'max-age=99999999' } }));
    routes.set('/no-store', () => ({ body: doc('/no-store'), headers: { 'cache-control': 'no-store' } }));
    routes.set('/other-id', () => ({ body: doc('/other-id', { client_id: `${base}/good` }) }));
    routes.set('/moved', () => ({ status: 302, headers: { location: '/good' } }));
    routes.set('/big', () => ({ body: doc('/big', { client_name: 'x'.repeat(50), padding: 'p'.repeat(6000) }) }));
    routes.set('/html', () => ({ body: '<html></html>', headers: { 'content-type': 'text/html' } }));
    routes.set('/slow', () => ({ hang: true }));
    routes.set('/secret', () => ({ body: doc('/secret', { client_secret: 's3cret' }) }));
    routes.set('/basic', () => ({ body: doc('/basic', { token_endpoint_auth_method: 'client_secret_basic' }) }));
    routes.set('/web-redirect', () => ({ body: doc('/web-redirect', { redirect_uris: ['http://evil.example/cb'] }) }));
    routes.set('/no-redirects', () => ({ body: doc('/no-redirects', { redirect_uris: [] }) }));
    routes.set('/implicit', () => ({ body: doc('/implicit', { response_types: ['token'] }) }));
    routes.set('/not-json', () => ({ body: '{"client_id":' }));
    routes.set('/gone', () => ({ status: 404 }));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches a document whose client_id is its URL, with its name, redirect URIs and cache lifetime', async () => {
    expect(await fetchClientMetadataDocument(`${base}/good`, options)).toEqual({
      clientId: `${base}/good`,
      clientName: 'Example Desktop',
      redirectUris: ['http://127.0.0.1/callback'],
      maxAgeSeconds: 120,
    });
  });

  it('keeps the cache lifetime within bounds', async () => {
    expect((await fetchClientMetadataDocument(`${base}/long-cache`, options)).maxAgeSeconds).toBe(86_400);
    expect((await fetchClientMetadataDocument(`${base}/no-store`, options)).maxAgeSeconds).toBe(60);
  });

  it.each([
    ['/other-id', /client_id is not exactly the URL/],
    ['/moved', /302, a redirect, which is not followed/],
    ['/big', /larger than 5120 bytes/],
    ['/html', /content type is text\/html/],
    ['/secret', /carries a client secret/],
    ['/basic', /client_secret_basic is not offered/],
    ['/web-redirect', /http redirect_uri must be a loopback address/],
    ['/no-redirects', /redirect_uris must be a list of 1 to 20/],
    ['/implicit', /response_types may only be code/],
    ['/not-json', /not JSON/],
    ['/gone', /HTTP 404/],
  ])('refuses %s', async (path, reason) => {
    await expect(fetchClientMetadataDocument(`${base}${path}`, options)).rejects.toThrow(reason);
  });

  it('gives up on a server that does not answer in time', async () => {
    await expect(fetchClientMetadataDocument(`${base}/slow`, { ...options, timeoutMs: 200 })).rejects.toThrow(/did not answer within 200 ms/);
  });

  it('refuses a certificate it has no trust anchor for', async () => {
    await expect(fetchClientMetadataDocument(`${base}/good`, { ...options, ca: undefined })).rejects.toThrow(/could not be fetched/);
  });

  it('fetches nothing from loopback, private, link-local or unspecified addresses unless the development switch allows loopback', async () => {
    const strict = { ...options, allowLoopback: false };
    await expect(fetchClientMetadataDocument(`${base}/good`, strict)).rejects.toThrow(/loopback address, which is not fetched/);
    const port = new URL(base).port;
    await expect(fetchClientMetadataDocument(`https://localhost:${port}/good`, strict)).rejects.toThrow(/loopback address/);
    for (const [url, range] of [
      ['https://10.1.2.3/client', 'private'],
      ['https://192.168.0.1/client', 'private'],
      ['https://169.254.169.254/latest', 'linkLocal'],
      ['https://[fd00::1]/client', 'uniqueLocal'],
      ['https://[::ffff:7f00:1]/client', 'loopback'],
      ['https://0.0.0.0/client', 'unspecified'],
    ])
      await expect(fetchClientMetadataDocument(url as string, strict)).rejects.toThrow(new RegExp(`${range} address`));
  });

  it.each([
    ['http://example.com/client', /must be https/],
    ['https://example.com', /must have a path/],
    ['https://example.com/', /must have a path/],
    ['https://example.com/client#frag', /fragment/],
    ['https://user:pw@example.com/client', /credentials/],
    ['https://example.com/a/../client', /\. or \.\. path segments/],
    ['https://EXAMPLE.com/client', /normal form/],
    ['not a url', /not a URL/],
  ])('refuses the client_id %s before fetching anything', (url, reason) => {
    expect(clientMetadataUrlProblem(url)).toMatch(reason);
  });

  it('accepts a plain https client_id URL', () => {
    expect(clientMetadataUrlProblem('https://app.example.com/oauth/client.json')).toBeUndefined();
  });
});
