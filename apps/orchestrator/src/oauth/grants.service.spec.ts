import { JwtService } from '@nestjs/jwt';
import { TokenIssuerService, TokenVerifierService, resolveAuthOptions } from '@crossauth/auth';
import { randomSecret } from '@crossauth/auth/testing';
import type { DatabaseEngine } from '@crossauth/storage';
import { testEngines } from '@crossauth/storage/testing';
import type { AccountsService } from '../accounts/accounts.service';
import type { UserRecord, UserRole } from '../accounts/user.repository';
import type { OrchestratorConfig } from '../config/env.schema';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../storage/orchestrator-migrations';
import { createHash, randomBytes } from 'node:crypto';
import { AuthorizationCodesService } from './authorization-codes.service';
import { PostgresAuthorizationCodeRepository } from './postgres-authorization-code.repository';
import { SqliteAuthorizationCodeRepository } from './sqlite-authorization-code.repository';
import type { GrantRevocationService } from './grant-revocation.service';
import { GrantsService, type PersonTokens, type RefreshRefusal } from './grants.service';
import type { OAuthClientRecord } from './oauth-client.repository';
import { PostgresGrantRepository } from './postgres-grant.repository';
import { SqliteGrantRepository } from './sqlite-grant.repository';

const ISSUER = 'http://127.0.0.1:8679';
const RESOURCE = 'http://127.0.0.1:8678/mcp';
const DAY = 86_400_000;
const client = (id: string): OAuthClientRecord => ({
  id,
  name: null,
  allowedScopes: ['read', 'write'],
  allowedResources: [RESOURCE],
  secretHash: null,
  secretKeyId: null,
  jwks: null,
  redirectUris: ['http://127.0.0.1/callback'],
  createdAt: 0,
  secretRotatedAt: null,
  dynamic: false,
  lastUsedAt: null,
});
const DESKTOP = client('desktop-app');
const tokens = (outcome: PersonTokens | RefreshRefusal): PersonTokens => {
  if ('refused' in outcome) throw new Error(`refused: ${outcome.refused}`);
  return outcome;
};

describe.each(testEngines('orchestrator', { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }))('grants and refresh tokens on $name', (spec) => {
  let engine: DatabaseEngine;
  let grants: GrantsService;
  let verifier: TokenVerifierService;
  let roles: Map<string, UserRole>;
  let revokedJtis: string[];
  let codes: AuthorizationCodesService;
  /** A person's approval, as the authorization endpoint makes it: a code, checked, then the grant it starts. */
  const begin = async (username: string, now = Date.now()): Promise<PersonTokens> => {
    const verifier = randomBytes(32).toString('base64url');
    const grant = { clientId: DESKTOP.id, username, redirectUri: 'http://127.0.0.1/callback', resource: RESOURCE, scopes: ['read', 'write'] };
    const code = await codes.issue({ ...grant, codeChallenge: createHash('sha256').update(verifier).digest('base64url') }, now);
    const checked = await codes.redeem({ code, clientId: DESKTOP.id, redirectUri: grant.redirectUri, resource: undefined, codeVerifier: verifier }, now);
    if (!('grant' in checked)) throw new Error(`the code was refused: ${checked.refused}`);
    const started = await grants.issueForCode(checked.grant, now);
    if (started === 'spent') throw new Error('the code was spent');
    return started;
  };
  const storedTokens = async (): Promise<unknown[]> =>
    engine.kind === 'postgres' ? (await engine.query('SELECT * FROM refresh_tokens')).rows : engine.db.prepare('SELECT * FROM refresh_tokens').all();

  beforeAll(async () => {
    engine = await spec.open();
    const auth = resolveAuthOptions({ secret: randomSecret(), issuer: ISSUER, allowedIssuers: [ISSUER], audiences: [RESOURCE] });
    verifier = new TokenVerifierService(auth);
    const accounts = {
      find: async (username: string) => (roles.has(username) ? ({ username, role: roles.get(username) } as UserRecord) : undefined),
      signOut: async () => undefined,
      remove: async (username: string) => void roles.delete(username),
    } as unknown as AccountsService;
    const revocations = {
      revokeToken: async (jti: string) => {
        revokedJtis.push(jti);
        return 'recorded_here';
      },
      revokePerson: async () => ({ revoked_as_of: new Date().toISOString(), resources: [] }),
    } as unknown as GrantRevocationService;
    const config = { oauth: { tokenTtlSeconds: 300, refreshTokenTtlSeconds: 30 * 86_400, grantMaxSeconds: 90 * 86_400 } } as OrchestratorConfig;
    const repository = engine.kind === 'postgres' ? new PostgresGrantRepository(engine) : new SqliteGrantRepository(engine);
    codes = new AuthorizationCodesService(
      engine.kind === 'postgres' ? new PostgresAuthorizationCodeRepository(engine) : new SqliteAuthorizationCodeRepository(engine),
    );
    grants = new GrantsService(repository, new TokenIssuerService(auth, new JwtService({})), accounts, revocations, auth, config);
  });
  beforeEach(() => {
    roles = new Map([['alice', 'developer']]);
    revokedJtis = [];
  });
  afterAll(async () => {
    await engine.close();
    await spec.cleanup();
  });

  it('starts one grant from a code however many redemptions race for it', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const grant = { clientId: DESKTOP.id, username: 'alice', redirectUri: 'http://127.0.0.1/callback', resource: RESOURCE, scopes: ['read'] };
    const code = await codes.issue({ ...grant, codeChallenge: createHash('sha256').update(verifier).digest('base64url') });
    const redeem = async () => {
      const checked = await codes.redeem({ code, clientId: DESKTOP.id, redirectUri: grant.redirectUri, resource: undefined, codeVerifier: verifier });
      return 'grant' in checked ? grants.issueForCode(checked.grant) : checked;
    };
    const outcomes = await Promise.all(Array.from({ length: 8 }, redeem));
    expect(outcomes.filter((o) => typeof o === 'object' && 'access' in o)).toHaveLength(1);
    expect(await codes.redeem({ code, clientId: DESKTOP.id, redirectUri: grant.redirectUri, resource: undefined, codeVerifier: verifier })).toMatchObject({
      refused: expect.stringMatching(/already used/),
      revoke: { grantId: expect.any(String) },
    });
  });

  it('starts a grant from a code and rotates its refresh token on every use, storing only hashes', async () => {
    const first = await begin('alice');
    expect(first.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verifier.verify(first.access.token)).toMatchObject({ subject: 'alice', clientId: DESKTOP.id, audience: [RESOURCE], scopes: ['read', 'write'] });
    const second = tokens(await grants.refresh(first.refreshToken, DESKTOP, undefined));
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.grant.id).toBe(first.grant.id);
    expect(verifier.verify(second.access.token)).toMatchObject({ subject: 'alice', scopes: ['read', 'write'] });
    const third = tokens(await grants.refresh(second.refreshToken, DESKTOP, undefined));
    expect(third.grant.id).toBe(first.grant.id);
    const rows = await storedTokens();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const stored = JSON.stringify(rows);
    for (const t of [first, second, third]) expect(stored).not.toContain(t.refreshToken);
  });

  it('lets a token just replaced work until its replacement is used: a parallel refresh signs no one out', async () => {
    const first = await begin('alice');
    const [a, b] = await Promise.all([grants.refresh(first.refreshToken, DESKTOP, undefined), grants.refresh(first.refreshToken, DESKTOP, undefined)]);
    const kept = tokens(a);
    tokens(b);
    // The client kept one of the two answers and goes on with it.
    expect(tokens(await grants.refresh(kept.refreshToken, DESKTOP, undefined)).grant.id).toBe(first.grant.id);
  });

  it('revokes the whole grant and its live access tokens when a replaced token comes back', async () => {
    const first = await begin('alice');
    const second = tokens(await grants.refresh(first.refreshToken, DESKTOP, undefined));
    const third = tokens(await grants.refresh(second.refreshToken, DESKTOP, undefined));
    const replay = await grants.refresh(first.refreshToken, DESKTOP, undefined);
    expect(replay).toEqual({ error: 'invalid_grant', refused: expect.stringMatching(/already replaced; its grant is revoked/) });
    expect(revokedJtis.sort()).toEqual([first.access.tokenId, second.access.tokenId, third.access.tokenId].sort());
    expect(await grants.refresh(third.refreshToken, DESKTOP, undefined)).toEqual({ error: 'invalid_grant', refused: expect.stringMatching(/revoked/) });
    expect(await grants.list({ username: 'alice' })).not.toContainEqual(expect.objectContaining({ id: first.grant.id }));
  });

  it('treats the sibling of a used replacement as a reuse', async () => {
    const first = await begin('alice');
    const a = tokens(await grants.refresh(first.refreshToken, DESKTOP, undefined));
    const b = tokens(await grants.refresh(first.refreshToken, DESKTOP, undefined));
    tokens(await grants.refresh(a.refreshToken, DESKTOP, undefined));
    expect(await grants.refresh(b.refreshToken, DESKTOP, undefined)).toMatchObject({
      error: 'invalid_grant',
      refused: expect.stringMatching(/already replaced/),
    });
  });

  it('revokes a grant whose refresh token another client presents', async () => {
    const first = await begin('alice');
    expect(await grants.refresh(first.refreshToken, client('other-app'), undefined)).toEqual({
      error: 'invalid_grant',
      refused: expect.stringMatching(/issued to another client; its grant is revoked/),
    });
    expect(await grants.refresh(first.refreshToken, DESKTOP, undefined)).toMatchObject({ refused: expect.stringMatching(/revoked/) });
    expect(revokedJtis).toEqual([first.access.tokenId]);
  });

  it('refuses malformed, unknown and expired refresh tokens, and any refresh past the grant’s end', async () => {
    const start = Date.now();
    for (const bad of ['', 'x', 'a'.repeat(43), `${'a'.repeat(42)}.`])
      expect(await grants.refresh(bad, DESKTOP, undefined)).toEqual({ error: 'invalid_grant', refused: 'the refresh token is not valid' });
    const first = await begin('alice', start);
    expect(await grants.refresh(first.refreshToken, DESKTOP, undefined, start + 31 * DAY)).toMatchObject({ refused: expect.stringMatching(/expired/) });
    let current = first;
    for (let day = 25; day < 90; day += 25) current = tokens(await grants.refresh(current.refreshToken, DESKTOP, undefined, start + day * DAY));
    expect(await grants.refresh(current.refreshToken, DESKTOP, undefined, start + 91 * DAY)).toMatchObject({ refused: expect.stringMatching(/expired/) });
  });

  it('narrows scopes on request and to what the role allows now, never widens them', async () => {
    const first = await begin('alice');
    const narrowed = tokens(await grants.refresh(first.refreshToken, DESKTOP, ['read']));
    expect(narrowed.scopes).toEqual(['read']);
    expect(await grants.refresh(narrowed.refreshToken, DESKTOP, ['read', 'admin'])).toEqual({
      error: 'invalid_scope',
      refused: 'the grant does not include admin',
    });
    roles.set('alice', 'viewer');
    expect(tokens(await grants.refresh(narrowed.refreshToken, DESKTOP, undefined)).scopes).toEqual(['read']);
  });

  it('ends a grant whose person is gone', async () => {
    const first = await begin('bob');
    expect(await grants.refresh(first.refreshToken, DESKTOP, undefined)).toMatchObject({ refused: expect.stringMatching(/no longer has an account/) });
    roles.set('bob', 'developer');
    expect(await grants.refresh(first.refreshToken, DESKTOP, undefined)).toMatchObject({ refused: expect.stringMatching(/revoked/) });
  });

  it('revokes a refresh token for its own client only (RFC 7009)', async () => {
    const first = await begin('alice');
    expect(await grants.revokeRefreshToken(first.refreshToken, 'other-app')).toBeUndefined();
    const second = tokens(await grants.refresh(first.refreshToken, DESKTOP, undefined));
    expect(await grants.revokeRefreshToken(second.refreshToken, DESKTOP.id)).toMatchObject({ id: first.grant.id });
    expect(await grants.refresh(second.refreshToken, DESKTOP, undefined)).toMatchObject({ refused: expect.stringMatching(/revoked/) });
    expect(await grants.revokeRefreshToken(second.refreshToken, DESKTOP.id)).toBeUndefined();
  });

  it('signs a person out everywhere: every grant of theirs ends, others’ stay', async () => {
    roles.set('carol', 'developer');
    const alices = [await begin('alice'), await begin('alice')];
    const carols = await begin('carol');
    expect((await grants.signOutEverywhere('Alice')).grants_revoked).toBeGreaterThanOrEqual(2);
    for (const t of alices) expect(await grants.refresh(t.refreshToken, DESKTOP, undefined)).toMatchObject({ refused: expect.stringMatching(/revoked/) });
    tokens(await grants.refresh(carols.refreshToken, DESKTOP, undefined));
    expect(await grants.list({ username: 'alice' })).toEqual([]);
  });

  it('remembers consent per person, client and resource, and asks again for more', async () => {
    expect(await grants.consented('dave', DESKTOP.id, RESOURCE, ['read'])).toBe(false);
    await grants.rememberConsent('dave', DESKTOP.id, RESOURCE, ['read']);
    expect(await grants.consented('dave', DESKTOP.id, RESOURCE, ['read'])).toBe(true);
    expect(await grants.consented('dave', DESKTOP.id, RESOURCE, ['read', 'write'])).toBe(false);
    expect(await grants.consented('dave', 'other-app', RESOURCE, ['read'])).toBe(false);
    expect(await grants.consented('dave', DESKTOP.id, 'http://127.0.0.1:8679/mcp', ['read'])).toBe(false);
    await grants.rememberConsent('dave', DESKTOP.id, RESOURCE, ['write']);
    expect(await grants.consented('dave', DESKTOP.id, RESOURCE, ['read', 'write'])).toBe(true);
  });
});
