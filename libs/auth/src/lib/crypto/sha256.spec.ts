import { createHash, createHmac, createSecretKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { hmacSha256, sha256 } from './sha256';

const hex = (value: string) => Buffer.from(value, 'hex');
const base64OfHex = (value: string) => hex(value).toString('base64');

// RFC 4231 §4 (HMAC-SHA-256 results). The function MACs strings (a signature base
// is text), so cases 3 and 4, whose data bytes are not UTF-8, are left out, as is
// case 5 (a truncated MAC).
const RFC_4231: ReadonlyArray<{ name: string; key: Buffer; data: string; mac: string }> = [
  { name: 'case 1', key: Buffer.alloc(20, 0x0b), data: 'Hi There', mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  {
    name: 'case 2 (short key)',
    key: Buffer.from('Jefe'),
    data: 'what do ya want for nothing?',
    mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  {
    name: 'case 6 (131-byte key, hashed first)',
    key: Buffer.alloc(131, 0xaa),
    data: 'Test Using Larger Than Block-Size Key - Hash Key First',
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
  {
    name: 'case 7 (131-byte key, long data)',
    key: Buffer.alloc(131, 0xaa),
    data: 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  },
];

describe('hmacSha256', () => {
  it.each(RFC_4231)('reproduces RFC 4231 $name', ({ key, data, mac }) => {
    expect(hmacSha256(createSecretKey(key), data, 'base64')).toBe(base64OfHex(mac));
  });

  it('agrees with createHmac for any key length and any string, non-ASCII included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 600 }), (key, message) => {
        const keyObject = createSecretKey(Buffer.from(key));
        expect(hmacSha256(keyObject, message, 'base64')).toBe(createHmac('sha256', keyObject).update(message).digest('base64'));
      }),
      { numRuns: 400 },
    );
  });

  it('answers in base64url as createHmac does (the JWT signature encoding)', () => {
    const key = createSecretKey(randomBytes(32));
    for (const message of ['a.b', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0']) {
      expect(hmacSha256(key, message, 'base64url')).toBe(createHmac('sha256', key).update(message).digest('base64url'));
    }
  });

  it('keeps each key apart when several are used in turn (pads are per key)', () => {
    const keys = [randomBytes(32), randomBytes(32), randomBytes(48)].map((k) => createSecretKey(k));
    for (let round = 0; round < 3; round++) {
      for (const key of keys) {
        expect(hmacSha256(key, `round ${round}`, 'base64')).toBe(createHmac('sha256', key).update(`round ${round}`).digest('base64'));
      }
    }
  });

  it('gives the same answer for messages too long for its scratch buffer (createHmac path)', () => {
    const key = createSecretKey(randomBytes(32));
    for (const message of ['x'.repeat(4096), 'x'.repeat(4097), '€'.repeat(5000)]) {
      expect(hmacSha256(key, message, 'base64')).toBe(createHmac('sha256', key).update(message).digest('base64'));
    }
  });

  it('differs when one message byte or one key byte differs', () => {
    const raw = randomBytes(32);
    const key = createSecretKey(raw);
    const other = Buffer.from(raw);
    other[0] = (other[0] as number) ^ 1;
    const mac = hmacSha256(key, 'POST /mcp', 'base64');
    expect(hmacSha256(key, 'POST /mcq', 'base64')).not.toBe(mac);
    expect(hmacSha256(createSecretKey(other), 'POST /mcp', 'base64')).not.toBe(mac);
  });
});

describe('sha256', () => {
  it('reproduces FIPS 180-2 "abc" and agrees with createHash on bytes and text, in both encodings', () => {
    expect(sha256('abc', 'base64')).toBe(base64OfHex('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 200 }), (bytes, text) => {
        for (const encoding of ['base64', 'base64url'] as const) {
          expect(sha256(bytes, encoding)).toBe(createHash('sha256').update(bytes).digest(encoding));
          expect(sha256(text, encoding)).toBe(createHash('sha256').update(text).digest(encoding));
        }
      }),
      { numRuns: 200 },
    );
  });
});
