import { hashPassword, passwordMatches, passwordNeedsRehash, passwordProblem, scryptKey, type PasswordHashParams } from './password-hash';

// Fast parameters for the behaviour cases; the default is pinned separately.
const FAST: PasswordHashParams = { log2N: 10, r: 8, p: 1 };

describe('password hashing (scrypt, RFC 7914)', () => {
  it('agrees with the RFC 7914 §12 test vectors', async () => {
    expect((await scryptKey('', '', 64, { log2N: 4, r: 1, p: 1 })).toString('hex')).toBe(
      '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906',
    );
    expect((await scryptKey('password', 'NaCl', 64, { log2N: 10, r: 8, p: 16 })).toString('hex')).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
  });

  it('stores a PHC string naming its parameters, salted so the same password hashes differently', async () => {
    const a = await hashPassword('correct horse battery', FAST);
    const b = await hashPassword('correct horse battery', FAST);
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
  });

  it('uses the documented default parameters (N=2^15, r=8, p=3)', async () => {
    expect(await hashPassword('correct horse battery')).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/);
  });

  it('matches the password, and the same password in another Unicode normal form', async () => {
    const stored = await hashPassword('caf\u00e9 au lait, please', FAST);
    expect(await passwordMatches('caf\u00e9 au lait, please', stored)).toBe(true);
    expect(await passwordMatches('cafe\u0301 au lait, please', stored)).toBe(true);
  });

  it.each([
    ['a wrong password', 'correct horse batterY'],
    ['the password with a trailing space', 'correct horse battery '],
    ['an empty password', ''],
  ])('refuses %s', async (_name, attempt) => {
    expect(await passwordMatches(attempt, await hashPassword('correct horse battery', FAST))).toBe(false);
  });

  it.each([
    ['not a hash at all', 'correct horse battery'],
    ['another algorithm', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA'],
    ['a cost beyond the bounds (memory exhaustion)', '$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a parallelism beyond the bounds', '$scrypt$ln=10,r=8,p=99$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a truncated hash', '$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
  ])('matches nothing against a stored value that is %s', async (_name, stored) => {
    expect(await passwordMatches('correct horse battery', stored)).toBe(false);
  });

  it('says a hash made with weaker parameters needs re-hashing', async () => {
    expect(passwordNeedsRehash(await hashPassword('correct horse battery', FAST))).toBe(true);
    expect(passwordNeedsRehash('garbage')).toBe(true);
    expect(passwordNeedsRehash(await hashPassword('correct horse battery', FAST), FAST)).toBe(false);
  });

  it.each([
    ['too short', 'short pass', /at least 12 characters/],
    ['too long', 'x'.repeat(1025), /at most 1024 bytes/],
  ])('refuses a new password that is %s', (_name, password, message) => {
    expect(passwordProblem(password)).toMatch(message);
  });

  it('accepts a long passphrase with no composition rules, counting characters, not bytes', () => {
    expect(passwordProblem('correct horse battery')).toBeUndefined();
    expect(passwordProblem('ééééééééééé')).toMatch(/at least 12/);
    expect(passwordProblem('éééééééééééé')).toBeUndefined();
  });
});
