import type { DatabaseEngine } from '@crossauth/storage';
import { testEngines } from '@crossauth/storage/testing';
import { createHash } from 'node:crypto';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../storage/orchestrator-migrations';
import { PostgresAuthorizationCodeRepository } from './postgres-authorization-code.repository';
import { SqliteAuthorizationCodeRepository } from './sqlite-authorization-code.repository';
import { PostgresGrantRepository } from './postgres-grant.repository';
import { SqliteGrantRepository } from './sqlite-grant.repository';
import type { CodeGrant } from './authorization-code.repository';
import { AUTHORIZATION_CODE_TTL_MS, AuthorizationCodesService } from './authorization-codes.service';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const GRANT: CodeGrant = {
  clientId: 'desktop-app',
  username: 'alice',
  redirectUri: 'http://127.0.0.1:53124/callback',
  resource: 'http://127.0.0.1:8678/mcp',
  scopes: ['read', 'write'],
  codeChallenge: CHALLENGE,
};
const redemption = (code: string) => ({ code, clientId: GRANT.clientId, redirectUri: GRANT.redirectUri, resource: GRANT.resource, codeVerifier: VERIFIER });

describe.each(testEngines('orchestrator', { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }))('authorization codes on $name', (spec) => {
  let engine: DatabaseEngine;
  let codes: AuthorizationCodesService;
  beforeAll(async () => {
    engine = await spec.open();
    codes = new AuthorizationCodesService(
      engine.kind === 'postgres' ? new PostgresAuthorizationCodeRepository(engine) : new SqliteAuthorizationCodeRepository(engine),
    );
  });
  afterAll(async () => {
    await engine.close();
    await spec.cleanup();
  });

  it('checks a code for what it was issued, and stores only its hash', async () => {
    const code = await codes.issue(GRANT);
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored =
      engine.kind === 'postgres'
        ? (await engine.query<{ code_hash: string }>('SELECT code_hash FROM authorization_codes')).rows.map((r) => r.code_hash)
        : (engine.db.prepare('SELECT code_hash FROM authorization_codes').all() as Array<{ code_hash: string }>).map((r) => r.code_hash);
    expect(stored).toContain(createHash('sha256').update(code).digest('base64url'));
    expect(stored).not.toContain(code);
    expect(await codes.redeem(redemption(code))).toMatchObject({ grant: { username: 'alice', scopes: ['read', 'write'], resource: GRANT.resource } });
  });

  it('refuses a second use and names the grant the first one started, to revoke it', async () => {
    const code = await codes.issue(GRANT);
    const first = await codes.redeem(redemption(code));
    if (!('grant' in first)) throw new Error('the first redemption was refused');
    const grants = engine.kind === 'postgres' ? new PostgresGrantRepository(engine) : new SqliteGrantRepository(engine);
    const now = Date.now();
    await grants.start(
      {
        id: 'grant-1',
        username: 'alice',
        clientId: GRANT.clientId,
        resource: GRANT.resource,
        scopes: GRANT.scopes,
        createdAt: now,
        lastUsedAt: now,
        expiresAt: now + 60_000,
        revokedAt: null,
        revokedReason: null,
      },
      {
        tokenHash: 'rt-1',
        grantId: 'grant-1',
        parentHash: null,
        createdAt: now,
        expiresAt: now + 60_000,
        usedAt: null,
        supersededAt: null,
        accessTokenId: 'jti-1',
      },
      first.grant.codeHash,
    );
    expect(await codes.redeem(redemption(code))).toEqual({ refused: expect.stringMatching(/already used/), revoke: { grantId: 'grant-1' } });
  });

  it.each<[string, (code: string) => Parameters<AuthorizationCodesService['redeem']>[0], RegExp]>([
    ['another client', (code) => ({ ...redemption(code), clientId: 'other-app' }), /issued to another client/],
    ['another redirect URI', (code) => ({ ...redemption(code), redirectUri: 'http://127.0.0.1:9999/callback' }), /redirect_uri differs/],
    ['no redirect URI', (code) => ({ ...redemption(code), redirectUri: undefined }), /redirect_uri differs/],
    ['another resource', (code) => ({ ...redemption(code), resource: 'http://127.0.0.1:8679/mcp' }), /resource differs/],
    ['no code_verifier', (code) => ({ ...redemption(code), codeVerifier: undefined }), /code_verifier is required/],
    ['a wrong code_verifier', (code) => ({ ...redemption(code), codeVerifier: `${VERIFIER.slice(0, -1)}A` }), /does not match/],
    ['the challenge as verifier (plain)', (code) => ({ ...redemption(code), codeVerifier: CHALLENGE }), /does not match/],
    ['an altered code', (code) => ({ ...redemption(code), code: `${code.slice(0, -1)}${code.endsWith('A') ? 'B' : 'A'}` }), /not valid/],
    ['not a code at all', (code) => ({ ...redemption(code), code: "' OR 1=1 --" }), /not valid/],
  ])('refuses %s, and the code is then used up', async (_name, tamper, message) => {
    const code = await codes.issue(GRANT);
    const refusal = await codes.redeem(tamper(code));
    expect(refusal).toEqual({ refused: expect.stringMatching(message) });
    if (!/not valid/.test(message.source)) expect(await codes.redeem(redemption(code))).toMatchObject({ refused: expect.stringMatching(/already used/) });
  });

  it('refuses an expired code, and prunes old ones', async () => {
    const issuedAt = Date.now() - AUTHORIZATION_CODE_TTL_MS - 3_700_000;
    const old = await codes.issue(GRANT, issuedAt);
    expect(await codes.redeem(redemption(old), issuedAt + AUTHORIZATION_CODE_TTL_MS)).toEqual({ refused: 'the authorization code has expired' });
    expect(await codes.prune()).toBeGreaterThanOrEqual(1);
    expect(await codes.redeem(redemption(old))).toEqual({ refused: 'the authorization code is not valid' });
  });
});
