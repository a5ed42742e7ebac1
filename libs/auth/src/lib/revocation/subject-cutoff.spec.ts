import { ANONYMOUS_PRINCIPAL, type Principal } from '../principal';
import { RevocationIndex } from './revocation-index';
import { subjectRevocationCutoff } from './subject-cutoff';

const token = (issuedAt: number | undefined): Principal => ({ ...ANONYMOUS_PRINCIPAL, anonymous: false, subject: 'alice', issuer: 'orchestrator', issuedAt });

describe('subjectRevocationCutoff', () => {
  const skew = 30;
  // 12:00:00.750 as ms: the revocation lands late in its second.
  const revokedAtMs = 1_800_000_000_750;
  const second = Math.floor(revokedAtMs / 1000);
  const revokedAt = (at: number) => {
    const index = new RevocationIndex();
    index.addSubject('alice', subjectRevocationCutoff(at, skew), Number.MAX_SAFE_INTEGER);
    return index;
  };

  it('refuses a token minted earlier in the revocation’s own second', () => {
    expect(revokedAt(revokedAtMs).isRevoked(token(second))).toBe(true);
  });

  it('refuses tokens whose iat is ahead of the clock by up to the accepted skew', () => {
    const index = revokedAt(revokedAtMs);
    for (let ahead = 1; ahead <= skew; ahead++) expect(index.isRevoked(token(second + ahead))).toBe(true);
  });

  it('refuses older tokens and tokens without iat', () => {
    const index = revokedAt(revokedAtMs);
    expect(index.isRevoked(token(second - 3600))).toBe(true);
    expect(index.isRevoked(token(undefined))).toBe(true);
  });

  it('accepts a token minted once the documented boundary (skew + 1 s) has passed', () => {
    const index = revokedAt(revokedAtMs);
    expect(index.isRevoked(token(second + skew + 1))).toBe(false);
  });

  it('gives the same cutoff for every instant of one second', () => {
    expect(subjectRevocationCutoff(second * 1000, skew)).toBe(subjectRevocationCutoff(second * 1000 + 999, skew));
    expect(subjectRevocationCutoff(second * 1000 + 1000, skew)).toBe(subjectRevocationCutoff(second * 1000, skew) + 1);
  });

  it('with no skew still covers the whole second', () => {
    expect(revokedAt(revokedAtMs - 0).isRevoked(token(second))).toBe(true);
    const index = new RevocationIndex();
    index.addSubject('alice', subjectRevocationCutoff(revokedAtMs, 0), Number.MAX_SAFE_INTEGER);
    expect(index.isRevoked(token(second))).toBe(true);
    expect(index.isRevoked(token(second + 1))).toBe(false);
  });
});
