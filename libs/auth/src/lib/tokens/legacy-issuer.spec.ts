import { accessClaims, craftToken, randomSecret } from '../../testing';
import { AuthConfigError, AuthError } from '../auth.errors';
import { resolveAuthOptions, type AuthModuleOptions } from '../auth-options';
import { generateSigningKey, signJwsInput } from '../keys/asymmetric-key';
import type { PublicKeySource } from '../keys/public-key-source';
import type { Principal } from '../principal';
import { RequestSignatureVerifierService } from '../signing/request-signature-verifier.service';
import { shown } from './legacy-issuer';
import { TokenVerifierService } from './token-verifier.service';

const AS = 'http://127.0.0.1:8679';
const secret = randomSecret();
const endsAt = Date.parse('2027-01-01T00:00:00Z');
const before = endsAt - 60_000;
const after = endsAt + 1;
const base: AuthModuleOptions = {
  secret,
  issuer: AS,
  allowedIssuers: [AS, 'mahavishnu'],
  legacyIssuers: [{ name: 'orchestrator', issuer: AS, until: new Date(endsAt) }],
  audiences: ['session-buddy'],
};
const verifierWith = (extra: Partial<AuthModuleOptions> = {}) => new TokenVerifierService(resolveAuthOptions({ ...base, ...extra }));
const tokenAt = (nowMs: number, claims: Record<string, unknown> = {}) => craftToken(accessClaims(claims, Math.floor(nowMs / 1000)), secret);

function refusal(fn: () => unknown): AuthError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('expected an AuthError, but verification passed');
}

describe('legacy issuer names: the transition window', () => {
  it('accepts the issuer URL before and after the window', () => {
    const verifier = verifierWith();
    expect(verifier.verify(tokenAt(before, { iss: AS }), before).issuer).toBe(AS);
    expect(verifier.verify(tokenAt(after, { iss: AS }), after).issuer).toBe(AS);
  });

  it('accepts the legacy name inside the window, and the audit keeps what the token said', () => {
    expect(verifierWith().verify(tokenAt(before, { iss: 'orchestrator' }), before).issuer).toBe('orchestrator');
  });

  it('refuses the legacy name once the window has ended, naming the end and the issuer to use', () => {
    const error = refusal(() => verifierWith().verify(tokenAt(after, { iss: 'orchestrator' }), after));
    expect(error.reason).toBe('wrong_issuer');
    expect(error.message).toContain("iss 'orchestrator' was accepted until 2027-01-01T00:00:00.000Z");
    expect(error.message).toContain(`tokens must now say iss '${AS}'`);
  });

  it('refuses a cached legacy token the moment the window ends', () => {
    const verifier = verifierWith();
    const token = tokenAt(endsAt - 1000, { iss: 'orchestrator', exp: Math.floor(endsAt / 1000) + 300 });
    expect(verifier.verify(token, endsAt - 1000).subject).toBe('alice');
    expect(verifier.cacheStats.size).toBe(1);
    expect(refusal(() => verifier.verify(token, endsAt)).reason).toBe('wrong_issuer');
  });

  it('does not lend the window to a legacy name whose issuer is not trusted here', () => {
    const verifier = verifierWith({ allowedIssuers: ['mahavishnu'], issuer: 'mahavishnu' });
    expect(refusal(() => verifier.verify(tokenAt(before, { iss: 'orchestrator' }), before)).reason).toBe('wrong_issuer');
  });

  it('refuses an unknown issuer, naming what the token said and whom the server trusts', () => {
    const error = refusal(() => verifierWith().verify(tokenAt(before, { iss: 'intruder' }), before));
    expect(error.reason).toBe('wrong_issuer');
    expect(error.message).toContain(`the token's iss is 'intruder'; this server trusts '${AS}', 'mahavishnu'`);
  });

  it('refuses another audience, naming what the token said and what this server is', () => {
    const error = refusal(() =>
      verifierWith({ audiences: ['session-buddy', 'http://127.0.0.1:8678/mcp'] }).verify(
        tokenAt(before, { iss: AS, aud: 'http://localhost:8678/mcp' }),
        before,
      ),
    );
    expect(error.reason).toBe('wrong_audience');
    expect(error.message).toContain("the token's aud is 'http://localhost:8678/mcp'; this server is 'session-buddy' or 'http://127.0.0.1:8678/mcp'");
  });

  it('shows a hostile iss only as short printable ASCII with no quotes', () => {
    const error = refusal(() => verifierWith().verify(tokenAt(before, { iss: `a"b\\c\r\nSet-Cookie: x${'y'.repeat(300)}` }), before));
    expect(error.message).not.toMatch(/["\\\r\n]/);
    expect(error.message.length).toBeLessThan(400);
    expect(shown('é"\n')).toBe("'???'");
  });

  it('refuses a configuration that lists a name both as allowed and as legacy, or gives no valid end', () => {
    expect(() => resolveAuthOptions({ ...base, allowedIssuers: [AS, 'orchestrator'] })).toThrow(AuthConfigError);
    expect(() => resolveAuthOptions({ ...base, legacyIssuers: [{ name: 'orchestrator', issuer: AS, until: new Date('never') }] })).toThrow(/valid end date/);
  });

  describe('with public keys bound to the issuer URL', () => {
    const key = generateSigningKey('EdDSA');
    const keys: PublicKeySource = {
      find: (kid) => (kid === key.kid ? { kid: key.kid, alg: key.alg, publicKey: key.publicKey, issuer: AS } : undefined),
      keyIds: [key.kid],
      issuers: [AS],
      unknownKey: () => undefined,
    };
    const signed = (claims: Record<string, unknown>, nowMs: number) => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const input = `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid })}.${b64(accessClaims(claims, Math.floor(nowMs / 1000)))}`;
      return `${input}.${signJwsInput(input, key).toString('base64url')}`;
    };
    const verifier = new TokenVerifierService(resolveAuthOptions({ ...base, secret: undefined, publicKeys: keys }));
    const hybrid = new TokenVerifierService(resolveAuthOptions({ ...base, publicKeys: keys }));

    it('a key of the issuer URL verifies tokens that still say the legacy name, inside the window', () => {
      expect(verifier.verify(signed({ iss: 'orchestrator' }, before), before).issuer).toBe('orchestrator');
      expect(verifier.verify(signed({ iss: AS }, before), before).issuer).toBe(AS);
      expect(refusal(() => verifier.verify(signed({ iss: 'orchestrator' }, after), after)).reason).toBe('wrong_issuer');
    });

    it('an HS256 token under the legacy name of an issuer that signs with public keys is refused', () => {
      expect(refusal(() => hybrid.verify(tokenAt(before, { iss: 'orchestrator' }), before)).reason).toBe('wrong_issuer');
      expect(refusal(() => hybrid.verify(tokenAt(before, { iss: AS }), before)).reason).toBe('wrong_issuer');
      expect(hybrid.verify(tokenAt(before, { iss: 'mahavishnu' }), before).issuer).toBe('mahavishnu');
    });
  });

  describe('signed-request requirements follow the issuer under either name', () => {
    const principal = (issuer: string) => ({ issuer }) as Principal;

    it('a rule naming the legacy name covers tokens with the URL, and the reverse', () => {
      const byName = new RequestSignatureVerifierService(resolveAuthOptions({ ...base, requireSignedRequests: ['orchestrator'] }));
      const byUrl = new RequestSignatureVerifierService(resolveAuthOptions({ ...base, requireSignedRequests: [AS] }));
      for (const signer of [byName, byUrl]) {
        expect(signer.requiredFor(principal(AS))).toBe(true);
        expect(signer.requiredFor(principal('orchestrator'))).toBe(true);
        expect(signer.requiredFor(principal('mahavishnu'))).toBe(false);
      }
    });
  });
});
