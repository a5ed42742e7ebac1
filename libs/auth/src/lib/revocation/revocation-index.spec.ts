import { ANONYMOUS_PRINCIPAL, type Principal } from '../principal';
import { RevocationIndex } from './revocation-index';

const token = (over: Partial<Principal>): Principal => ({ ...ANONYMOUS_PRINCIPAL, anonymous: false, subject: 'alice', issuer: 'orchestrator', ...over });

describe('RevocationIndex', () => {
  it('revokes one token id and nothing else', () => {
    const index = new RevocationIndex();
    index.addToken('j1', 2000);
    expect(index.isRevoked(token({ tokenId: 'j1' }))).toBe(true);
    expect(index.isRevoked(token({ tokenId: 'j2' }))).toBe(false);
  });

  it('revokes a subject’s tokens issued before the cut-off, not those issued after', () => {
    const index = new RevocationIndex();
    index.addSubject('alice', 1000, 5000);
    expect(index.isRevoked(token({ issuedAt: 999 }))).toBe(true);
    expect(index.isRevoked(token({ issuedAt: undefined }))).toBe(true);
    expect(index.isRevoked(token({ issuedAt: 1000 }))).toBe(false);
    expect(index.isRevoked(token({ subject: 'bob', issuedAt: 1 }))).toBe(false);
  });

  it('forgets entries once every token they cover has expired', () => {
    const index = new RevocationIndex();
    index.addToken('j1', 2000);
    index.addSubject('alice', 1000, 3000);
    index.purge(2500);
    expect(index.size).toEqual({ tokens: 0, subjects: 1 });
    index.purge(3000);
    expect(index.size).toEqual({ tokens: 0, subjects: 0 });
  });
});
