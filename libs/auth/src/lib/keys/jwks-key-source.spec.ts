import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningKey, publicJwkOf } from './asymmetric-key';
import { JwksKeySource, parseJwks } from './jwks-key-source';

/** A real HTTP server answering the JWKS it is given, counting requests. */
async function jwksServer(initial: { body: string; status?: number; cacheControl?: string }) {
  let answer = initial;
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...(answer.cacheControl ? { 'cache-control': answer.cacheControl } : {}) });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    set: (next: typeof initial) => void (answer = next),
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ed = generateSigningKey('EdDSA');
const es = generateSigningKey('ES256');
const jwks = (...keys: object[]) => JSON.stringify({ keys });

describe('parseJwks', () => {
  it('takes EdDSA and ES256 signing keys, each bound to the issuer and pinned to its type', () => {
    const keys = parseJwks(jwks(publicJwkOf(ed), publicJwkOf(es)), 'orchestrator');
    expect(keys.map((k) => [k.kid, k.alg, k.issuer])).toEqual([
      [ed.kid, 'EdDSA', 'orchestrator'],
      [es.kid, 'ES256', 'orchestrator'],
    ]);
  });

  it.each([
    ['a private key', { ...ed.privateKey.export({ format: 'jwk' }), kid: 'p1' }],
    ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0', kid: 'o1' }],
    ['an alg that contradicts the key type', { ...publicJwkOf(ed), kid: 'x1', alg: 'HS256' }],
    ['an encryption key', { ...publicJwkOf(ed), kid: 'x2', use: 'enc' }],
    ['a key without kid', { ...publicJwkOf(ed), kid: undefined }],
    ['a kid with a path in it', { ...publicJwkOf(ed), kid: '../../x' }],
    [
      'an RSA key (not a token algorithm here)',
      {
        kty: 'RSA',
        e: 'AQAB',
        n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw',
        kid: 'r1',
      },
    ],
  ])('leaves out %s', (_name, key) => {
    expect(parseJwks(jwks(key, publicJwkOf(ed)), 'orchestrator').map((k) => k.kid)).toEqual([ed.kid]);
  });

  it.each([
    ['not JSON', '<html>', /not JSON/],
    ['no keys array', '{"keys": {}}', /no keys array/],
    ['nothing usable', jwks({ kty: 'oct', k: 'eA', kid: 'o' }), /no usable/],
    ['too large', jwks(...Array.from({ length: 2000 }, () => publicJwkOf(ed))), /larger than/],
  ])('refuses a document that is %s', (_name, body, expected) => {
    expect(() => parseJwks(body, 'orchestrator')).toThrow(expected);
  });
});

describe('JwksKeySource against a real HTTP server', () => {
  let server: Awaited<ReturnType<typeof jwksServer>>;
  const sources: JwksKeySource[] = [];
  const make = (options: Partial<ConstructorParameters<typeof JwksKeySource>[0]> = {}) => {
    const source = new JwksKeySource({ url: server.url, issuer: 'orchestrator', minRefetchSeconds: 1, ...options });
    sources.push(source);
    return source;
  };

  beforeEach(async () => {
    server = await jwksServer({ body: jwks(publicJwkOf(ed)) });
  });
  afterEach(async () => {
    sources.splice(0).forEach((s) => s.stop());
    await server.close();
  });

  it('loads the keys at start and reports them ready', async () => {
    const source = make();
    expect(source.loaded).toBe(false);
    await source.start();
    expect(source.loaded).toBe(true);
    expect(source.keyIds).toEqual([ed.kid]);
    expect(source.find(ed.kid)?.alg).toBe('EdDSA');
  });

  it('a flood of unknown kids costs at most one fetch per floor, and none at once', async () => {
    const source = make({ minRefetchSeconds: 60 });
    await source.start();
    for (let i = 0; i < 1000; i++) source.unknownKey(`made-up-${i}`);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toBe(1);
    expect(source.stats.skipped).toBe(1000);
  });

  it('an unknown kid after the floor fetches once and finds a newly published key', async () => {
    const source = make({ minRefetchSeconds: 1 });
    await source.start();
    server.set({ body: jwks(publicJwkOf(ed), publicJwkOf(es)) });
    await new Promise((r) => setTimeout(r, 1000));
    source.unknownKey(es.kid);
    source.unknownKey(es.kid);
    await source.refresh('manual'); // joins the fetch already running
    expect(source.find(es.kid)).toBeDefined();
    expect(server.requests).toBe(2);
  });

  it('keeps the keys it had when the issuer fails or answers junk', async () => {
    const source = make({ minRefetchSeconds: 1 });
    await source.start();
    server.set({ body: 'oops', status: 500 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await source.refresh('manual')).toBe(false);
    server.set({ body: '{"keys": []}' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await source.refresh('manual')).toBe(false);
    expect(source.keyIds).toEqual([ed.kid]);
    expect(source.stats.failures).toBe(2);
  });

  it('refreshes on its own at the max-age the issuer sends (bounded below by the floor)', async () => {
    server.set({ body: jwks(publicJwkOf(ed)), cacheControl: 'public, max-age=1' });
    const source = make({ minRefetchSeconds: 1, refreshSeconds: 300 });
    await source.start();
    server.set({ body: jwks(publicJwkOf(es)), cacheControl: 'public, max-age=1' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(source.keyIds).toEqual([es.kid]);
  });

  it('starts without keys when the issuer is down, and is not loaded', async () => {
    const source = new JwksKeySource({ url: 'http://127.0.0.1:9/jwks.json', issuer: 'orchestrator', timeoutMs: 500 });
    sources.push(source);
    expect(await source.start()).toBe(false);
    expect(source.loaded).toBe(false);
    expect(source.find(ed.kid)).toBeUndefined();
  });
});
