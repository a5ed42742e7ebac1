import { createHash } from 'node:crypto';
import { sameCanonicalBase64 } from './canonical-base64';

const digest = (text: string) => createHash('sha256').update(text).digest('base64');

describe('sameCanonicalBase64', () => {
  const value = digest('body');

  it('accepts the same text', () => {
    expect(sameCanonicalBase64(value, digest('body'))).toBe(true);
  });

  it('refuses a text that differs in any single position', () => {
    for (let i = 0; i < value.length; i++) {
      const changed = `${value.slice(0, i)}${value[i] === 'A' ? 'B' : 'A'}${value.slice(i + 1)}`;
      expect(sameCanonicalBase64(changed, value)).toBe(false);
    }
  });

  it('refuses a different length, an empty text and a prefix', () => {
    expect(sameCanonicalBase64(value.slice(0, -1), value)).toBe(false);
    expect(sameCanonicalBase64('', value)).toBe(false);
    expect(sameCanonicalBase64(`${value}=`, value)).toBe(false);
  });

  it('tells apart characters that share their low byte (no latin1 truncation)', () => {
    const wide = `${String.fromCharCode(0x100 + value.charCodeAt(0))}${value.slice(1)}`;
    expect(sameCanonicalBase64(wide, value)).toBe(false);
  });
});

describe('sameCanonicalBase64 over a range of the given text', () => {
  const value = digest('body');
  const header = `sig1=:${value}:`;

  it('compares the range with the expected text', () => {
    expect(sameCanonicalBase64(header, value, 6, header.length - 1)).toBe(true);
    expect(sameCanonicalBase64(header, digest('other'), 6, header.length - 1)).toBe(false);
  });

  it('refuses a range of another length, or one that leaves the text', () => {
    expect(sameCanonicalBase64(header, value, 5, header.length - 1)).toBe(false);
    expect(sameCanonicalBase64(header, value, 7, header.length)).toBe(false);
    expect(sameCanonicalBase64(value, value, -1, value.length - 1)).toBe(false);
    expect(sameCanonicalBase64(value.slice(1), value, 1, value.length)).toBe(false);
  });
});
