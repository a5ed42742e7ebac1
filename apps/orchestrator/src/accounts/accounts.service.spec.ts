import { hashPassword } from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import type { DatabaseEngine } from '@crossauth/storage';
import { testEngines } from '@crossauth/storage/testing';
import { PostgresOAuthClientRepository } from '../oauth/postgres-oauth-client.repository';
import { SqliteOAuthClientRepository } from '../oauth/sqlite-oauth-client.repository';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../storage/orchestrator-migrations';
import { subjectNames } from '../storage/subject-names';
import { AccountsService } from './accounts.service';
import { PostgresUserRepository } from './postgres-user.repository';
import { SqliteUserRepository } from './sqlite-user.repository';
import type { UserRepository } from './user.repository';

const codeOf = async (run: Promise<unknown>): Promise<string> => {
  try {
    await run;
    return 'ok';
  } catch (error) {
    if (error instanceof ToolError) return `${error.code}: ${error.message}`;
    throw error;
  }
};

describe.each(testEngines('orchestrator', { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }))('local accounts on $name', (spec) => {
  let engine: DatabaseEngine;
  let users: UserRepository;
  let accounts: AccountsService;
  beforeAll(async () => {
    engine = await spec.open();
    const clients = engine.kind === 'postgres' ? new PostgresOAuthClientRepository(engine) : new SqliteOAuthClientRepository(engine);
    users = engine.kind === 'postgres' ? new PostgresUserRepository(engine) : new SqliteUserRepository(engine);
    await clients.insert({
      id: 'robot',
      name: null,
      allowedScopes: ['read'],
      allowedResources: ['http://x/mcp'],
      secretHash: 'h',
      secretKeyId: 'k',
      jwks: null,
      redirectUris: null,
      createdAt: 1,
      secretRotatedAt: null,
      dynamic: false,
      lastUsedAt: null,
    });
    accounts = new AccountsService(users, subjectNames(clients, users));
    accounts.onModuleInit();
  });
  afterAll(async () => {
    await engine.close();
    await spec.cleanup();
  });

  it('adds a person, stores only a scrypt hash, and signs them in by any case of their name', async () => {
    const added = await accounts.add({ username: 'Alice', password: 'correct horse battery', role: 'developer' });
    expect(added).toMatchObject({ username: 'alice', role: 'developer' });
    const stored = await users.find('alice');
    expect(stored?.passwordHash).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/);
    expect(JSON.stringify(stored)).not.toContain('correct horse');
    expect((await accounts.signIn('ALICE', 'correct horse battery')).user?.username).toBe('alice');
    expect(await accounts.count()).toBe(1);
  });

  it.each([
    ['a wrong password', 'alice', 'correct horse batterY'],
    ['an unknown user', 'mallory', 'correct horse battery'],
    ['a username that cannot exist', "alice' OR 1=1 --", 'correct horse battery'],
  ])('answers %s with nothing, the same way', async (_name, username, password) => {
    expect(await accounts.signIn(username, password)).toEqual({});
  });

  it.each([
    ['a taken username', { username: 'alice', password: 'another long password', role: 'viewer' as const }, /^user_exists: user alice already exists/],
    [
      "a registered client's id",
      { username: 'robot', password: 'another long password', role: 'viewer' as const },
      /^user_exists: username robot is a registered client's id/,
    ],
    ['a username with spaces', { username: 'bob smith', password: 'another long password', role: 'viewer' as const }, /^invalid_argument: username:/],
    [
      'a short password',
      { username: 'bob', password: 'short', role: 'viewer' as const },
      /^invalid_argument: password: a password needs at least 12 characters/,
    ],
    [
      'an unknown role',
      { username: 'bob', password: 'another long password', role: 'root' as never },
      /^invalid_argument: role: one of viewer, developer, admin/,
    ],
  ])('refuses to add %s, and adds nothing', async (_name, input, expected) => {
    const before = await accounts.count();
    expect(await codeOf(accounts.add(input))).toMatch(expected);
    expect(await accounts.count()).toBe(before);
  });

  it('changes a password (the old one stops working) and a role', async () => {
    await accounts.setPassword('alice', 'a brand new passphrase');
    expect(await accounts.signIn('alice', 'correct horse battery')).toEqual({});
    expect((await accounts.signIn('alice', 'a brand new passphrase')).user?.username).toBe('alice');
    await accounts.setRole('alice', 'admin');
    expect((await accounts.find('alice'))?.role).toBe('admin');
  });

  it.each([
    ['set a password for nobody', () => accounts.setPassword('nobody', 'a brand new passphrase'), /^user_not_found/],
    ['set a short password', () => accounts.setPassword('alice', 'short'), /^invalid_argument: password/],
    ['set an unknown role', () => accounts.setRole('alice', 'root' as never), /^invalid_argument: role/],
    ['remove nobody', () => accounts.remove('nobody'), /^user_not_found/],
  ])('refuses to %s', async (_name, run, expected) => {
    expect(await codeOf(run())).toMatch(expected);
  });

  it('re-hashes a password stored with weaker parameters at the next sign-in', async () => {
    await accounts.add({ username: 'old-timer', password: 'correct horse battery', role: 'viewer' });
    // As an older release would have stored it.
    await users.updatePassword('old-timer', await hashPassword('correct horse battery', { log2N: 10, r: 8, p: 1 }), 1);
    expect((await accounts.signIn('old-timer', 'correct horse battery')).user).toBeDefined();
    expect((await users.find('old-timer'))?.passwordHash).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$/);
  });

  it('removes a person, who then cannot sign in', async () => {
    await accounts.remove('old-timer');
    expect(await accounts.signIn('old-timer', 'correct horse battery')).toEqual({});
    expect((await accounts.list()).map((u) => u.username)).toEqual(['alice']);
  });
});
