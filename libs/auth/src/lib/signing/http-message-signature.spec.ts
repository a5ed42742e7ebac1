import { createHmac, createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { contentDigest, verifyContentDigest } from './content-digest';
import { signRequest, signatureBase, verifyRequest, type SignableRequest } from './http-message-signature';
import { MemoryNonceStore } from './nonce-store';
import { SignatureError, type SignatureFailureReason } from './signature.errors';
import { parseSignature, parseSignatureInput, serializeSignatureParams } from './structured-fields';

const reasonOf = (fn: () => unknown): SignatureFailureReason | 'passed' => {
  try {
    fn();
    return 'passed';
  } catch (error) {
    if (error instanceof SignatureError) return error.reason;
    throw error;
  }
};

describe('RFC test vectors', () => {
  it('reproduces RFC 9421 Appendix B.2.5 (hmac-sha256, test-shared-secret)', () => {
    const key = Buffer.from('uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==', 'base64');
    const input = parseSignatureInput('sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"');
    const params = serializeSignatureParams(input.components, [...input.params.entries()]);
    const base = signatureBase(
      [
        ['date', 'Tue, 20 Apr 2021 02:07:55 GMT'],
        ['@authority', 'example.com'],
        ['content-type', 'application/json'],
      ],
      params,
    );
    expect(base).toBe(
      '"date": Tue, 20 Apr 2021 02:07:55 GMT\n"@authority": example.com\n"content-type": application/json\n"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
    );
    const { signature } = parseSignature('sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:');
    expect(createHmac('sha256', key).update(base).digest().equals(signature)).toBe(true);
  });

  it('reproduces RFC 9530\'s Content-Digest example for {"hello": "world"}', () => {
    expect(contentDigest('{"hello": "world"}')).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
    expect(() => verifyContentDigest('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:', '{"hello": "world"}')).not.toThrow();
  });
});

describe('request signatures', () => {
  const key = { kid: 'kid-current', key: createSecretKey(Buffer.alloc(32, 7)) };
  const other = createSecretKey(Buffer.alloc(32, 9));
  const now = 1_800_000_000;
  const request: SignableRequest = { method: 'POST', authority: '127.0.0.1:8678', path: '/mcp', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' };
  const sign = (over: { nowSeconds?: number; nonce?: string } = {}) => signRequest(request, key, { nowSeconds: now, ...over });
  const verify = (req: SignableRequest, headers: Record<string, string>, nonces = new MemoryNonceStore(), nowMs = now * 1000) =>
    verifyRequest({ ...req, headers }, { keyFor: (kid) => (kid === key.kid ? key.key : undefined), nonces, nowMs });

  it('accepts a freshly signed request once', () => {
    expect(verify(request, sign())).toEqual({ keyid: 'kid-current' });
  });

  it('emits exactly the documented header shapes', () => {
    const h = sign({ nonce: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(h['signature-input']).toBe(
      'sig1=("@method" "@authority" "@path" "content-digest");created=1800000000;nonce="AAAAAAAAAAAAAAAAAAAAAA";keyid="kid-current";alg="hmac-sha256"',
    );
    expect(h.signature).toMatch(/^sig1=:[A-Za-z0-9+/]{43}=:$/);
    expect(h['content-digest']).toBe(contentDigest(request.body));
  });

  it('gives every signature its own 128-bit nonce, across pool refills', () => {
    const nonces = Array.from({ length: 1000 }, () => /nonce="([^"]+)"/.exec(signRequest(request, key)['signature-input'])?.[1]);
    expect(nonces.every((n) => typeof n === 'string' && /^[A-Za-z0-9_-]{22}$/.test(n))).toBe(true);
    expect(new Set(nonces).size).toBe(1000);
  });

  it('breaks when any covered part changes (property)', () => {
    const headers = sign();
    const mutations = fc.oneof(
      fc.record({ method: fc.constantFrom('GET', 'DELETE', 'PUT') }),
      fc.record({ authority: fc.domain().filter((d) => d !== request.authority) }),
      fc.record({ path: fc.webPath().filter((p) => p !== request.path) }),
      fc.record({ body: fc.string({ minLength: 1 }).filter((b) => b !== request.body) }),
    );
    fc.assert(
      fc.property(mutations, (change) => {
        expect(reasonOf(() => verify({ ...request, ...change }, headers))).not.toBe('passed');
      }),
      { numRuns: 200 },
    );
  });

  // Deterministic twin of the property above for the base's cached head: a
  // request to another host, path or method right after one that matched.
  it.each([
    ['authority', { authority: '127.0.0.1:9999' }],
    ['path', { path: '/other' }],
    ['method', { method: 'PUT' }],
  ])('refuses a signature sent on to another %s straight after a request that matched', (_part, change) => {
    const headers = sign();
    const elsewhere = { ...request, ...change };
    expect(verify(request, sign())).toEqual({ keyid: 'kid-current' });
    expect(reasonOf(() => verify(elsewhere, headers))).toBe('signature_invalid');
    const signedElsewhere = signRequest(elsewhere, key, { nowSeconds: now });
    expect(reasonOf(() => verify(request, signedElsewhere))).toBe('signature_invalid');
    expect(verify(elsewhere, signedElsewhere)).toEqual({ keyid: 'kid-current' });
  });

  it('breaks when the digest, created, nonce or keyid in the headers change (property)', () => {
    const headers = sign();
    const edits = fc.oneof(
      fc.record({ 'content-digest': fc.uint8Array({ minLength: 1 }).map((b) => contentDigest(b)) }),
      fc
        .integer({ min: now - 200, max: now + 200 })
        .filter((c) => c !== now)
        .map((c) => ({ 'signature-input': headers['signature-input'].replace(`created=${now}`, `created=${c}`) })),
      fc
        .base64String({ minLength: 24, maxLength: 24 })
        .map((n) => ({ 'signature-input': headers['signature-input'].replace(/nonce="[^"]+"/, `nonce="${n.replace(/[+/=]/g, 'A')}"`) })),
      fc
        .constantFrom('kid-other', 'kid-current2')
        .map((k) => ({ 'signature-input': headers['signature-input'].replace('keyid="kid-current"', `keyid="${k}"`) })),
    );
    fc.assert(
      fc.property(edits, (edit) => {
        const edited = { ...headers, ...edit };
        fc.pre(JSON.stringify(edited) !== JSON.stringify(headers));
        expect(reasonOf(() => verify(request, edited))).not.toBe('passed');
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a replay inside the window, and after it (stale created), even once the nonce store has forgotten', () => {
    const headers = sign();
    const nonces = new MemoryNonceStore();
    expect(reasonOf(() => verify(request, headers, nonces))).toBe('passed');
    expect(reasonOf(() => verify(request, headers, nonces, (now + 100) * 1000))).toBe('signature_replayed');
    const forgetful = new MemoryNonceStore();
    expect(reasonOf(() => verify(request, headers, forgetful, (now + 301) * 1000))).toBe('signature_expired');
  });

  it('says the store is full, not that a fresh request is a replay, and lets a forgery burn no space', () => {
    const nonces = new MemoryNonceStore(1);
    const forged = sign();
    expect(reasonOf(() => verify(request, { ...forged, signature: `sig1=:${Buffer.alloc(32).toString('base64')}:` }, nonces))).toBe('signature_invalid');
    expect(reasonOf(() => verify(request, sign(), nonces))).toBe('passed');
    expect(reasonOf(() => verify(request, sign(), nonces))).toBe('nonce_store_full');
  });

  it.each<[string, (h: ReturnType<typeof sign>) => Record<string, string>, SignatureFailureReason]>([
    ['no signature headers', () => ({}), 'signature_missing'],
    [
      'a signature that covers less than required',
      (h) => ({ ...h, 'signature-input': h['signature-input'].replace(' "content-digest"', '') }),
      'signature_invalid',
    ],
    [
      'an unsupported extra component',
      (h) => ({ ...h, 'signature-input': h['signature-input'].replace('"content-digest"', '"content-digest" "date"') }),
      'signature_invalid',
    ],
    ['a second signature in the header', (h) => ({ ...h, signature: `${h.signature}, sig2=:AAAA:` }), 'signature_invalid'],
    ['trailing bytes after the signature', (h) => ({ ...h, signature: `${h.signature}x` }), 'signature_invalid'],
    ['non-canonical base64 (unpadded)', (h) => ({ ...h, signature: h.signature.replace('=:', ':') }), 'signature_invalid'],
    ['a hex signature', (h) => ({ ...h, signature: `sig1=:${'ab'.repeat(32)}:` }), 'signature_invalid'],
    ['a truncated signature', (h) => ({ ...h, signature: 'sig1=:AAAA:' }), 'signature_invalid'],
    ['mismatched labels', (h) => ({ ...h, signature: h.signature.replace('sig1=', 'sig2=') }), 'signature_invalid'],
    ['a short nonce', (h) => ({ ...h, 'signature-input': h['signature-input'].replace(/nonce="[^"]+"/, 'nonce="abc"') }), 'signature_invalid'],
    ['another algorithm', (h) => ({ ...h, 'signature-input': h['signature-input'].replace('hmac-sha256', 'rsa-pss-sha512') }), 'signature_invalid'],
    ['an unknown parameter', (h) => ({ ...h, 'signature-input': `${h['signature-input']};tag="x"` }), 'signature_invalid'],
    ['an unknown key id', (h) => ({ ...h, 'signature-input': h['signature-input'].replace('kid-current', 'kid-gone') }), 'unknown_key'],
    ['a body that does not match its digest', (h) => ({ ...h, 'content-digest': contentDigest('other') }), 'digest_mismatch'],
    ['a missing Content-Digest', (h) => ({ 'signature-input': h['signature-input'], signature: h.signature }), 'digest_mismatch'],
  ])('refuses %s', (_name, edit, reason) => {
    expect(reasonOf(() => verify(request, edit(sign())))).toBe(reason);
  });

  it.each<[string, (h: ReturnType<typeof sign>) => Record<string, string>, SignatureFailureReason]>([
    [
      'non-canonical base64 (spare bits set)',
      (h) => ({ ...h, signature: h.signature.replace(/(.)=:$/, (_m, c: string) => `${String.fromCharCode(c.charCodeAt(0) + 1)}=:`) }),
      'signature_invalid',
    ],
    [
      'a Content-Digest with spare bits set',
      (h) => ({ ...h, 'content-digest': h['content-digest'].replace(/(.)=:$/, (_m, c: string) => `${String.fromCharCode(c.charCodeAt(0) + 1)}=:`) }),
      'digest_mismatch',
    ],
    [
      'components reordered (not what was signed)',
      (h) => ({ ...h, 'signature-input': h['signature-input'].replace('"@method" "@authority"', '"@authority" "@method"') }),
      'signature_invalid',
    ],
    [
      'parameters reordered (not what was signed)',
      (h) => ({ ...h, 'signature-input': h['signature-input'].replace(/;created=(\d+);nonce="([^"]+)"/, ';nonce="$2";created=$1') }),
      'signature_invalid',
    ],
  ])('refuses %s', (_name, edit, reason) => {
    expect(reasonOf(() => verify(request, edit(sign())))).toBe(reason);
  });

  it('reads created=0… as the same integer (RFC 8941), so the signature still matches', () => {
    const h = sign();
    expect(reasonOf(() => verify(request, { ...h, 'signature-input': h['signature-input'].replace(`created=${now}`, `created=00${now}`) }))).toBe('passed');
  });

  // Canonical headers take a shortcut past the structured-field parser; whatever
  // path a header takes, a correctly signed request must pass and its replay fail.
  it('accepts signatures over any key id and label, with or without alg, exactly once (property)', () => {
    const kids = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
      fc.string({ minLength: 1, maxLength: 20 }).filter((k) => /^[\x20-\x7e]+$/.test(k)),
    );
    const labels = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,10}$/);
    fc.assert(
      fc.property(kids, labels, fc.boolean(), (kid, label, withAlg) => {
        const signer = { kid, key: key.key };
        let headers: Record<string, string> = signRequest(request, signer, { nowSeconds: now, label });
        if (!withAlg) {
          const input = headers['signature-input'] as string;
          const unsigned = input.replace(';alg="hmac-sha256"', '');
          const params = unsigned.slice(unsigned.indexOf('=') + 1);
          const base = signatureBase(
            [
              ['@method', 'POST'],
              ['@authority', request.authority],
              ['@path', request.path],
              ['content-digest', headers['content-digest'] as string],
            ],
            params,
          );
          headers = { ...headers, 'signature-input': unsigned, signature: `${label}=:${createHmac('sha256', key.key).update(base).digest('base64')}:` };
        }
        const nonces = new MemoryNonceStore();
        const verifyAs = () => verifyRequest({ ...request, headers }, { keyFor: (k) => (k === kid ? key.key : undefined), nonces, nowMs: now * 1000 });
        expect(reasonOf(verifyAs)).toBe('passed');
        expect(reasonOf(verifyAs)).toBe('signature_replayed');
      }),
      { numRuns: 300 },
    );
  });

  // A leading space (which the strict parsers trim) keeps a header off the
  // canonical shortcuts, so any edit must meet the same verdict both ways.
  it('gives the same verdict with and without the canonical shortcuts, for any one-character edit (property)', () => {
    const headers = sign();
    const names = ['signature-input', 'signature', 'content-digest'] as const;
    const characters = fc.constantFrom(...'aA0_-.:*="();, +/\\\u00e9'.split(''));
    const edits = fc.record({ name: fc.constantFrom(...names), at: fc.nat(), kind: fc.constantFrom('replace', 'insert', 'delete'), ch: characters });
    fc.assert(
      fc.property(edits, ({ name, at, kind, ch }) => {
        const text = headers[name];
        const i = at % (text.length + 1);
        const edited =
          kind === 'insert'
            ? text.slice(0, i) + ch + text.slice(i)
            : kind === 'replace'
              ? text.slice(0, i) + ch + text.slice(i + 1)
              : text.slice(0, i) + text.slice(i + 1);
        // Content-Digest's text is signed as sent, so its two forms are compared by the digest check alone.
        const check =
          name === 'content-digest'
            ? (value: string) => verifyContentDigest(value, request.body)
            : (value: string) => verify(request, { ...headers, [name]: value });
        expect(reasonOf(() => check(edited))).toBe(reasonOf(() => check(` ${edited}`)));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a signature made with another key under our key id', () => {
    const forged = signRequest(request, { kid: key.kid, key: other }, { nowSeconds: now });
    expect(reasonOf(() => verify(request, forged))).toBe('signature_invalid');
  });

  it('refuses a request signed too far in the past or future', () => {
    expect(reasonOf(() => verify(request, sign({ nowSeconds: now - 301 })))).toBe('signature_expired');
    expect(reasonOf(() => verify(request, sign({ nowSeconds: now + 301 })))).toBe('signature_expired');
  });
});
