import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolError } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from '../config/env.schema';
import type { AccountsService } from './accounts.service';
import { FIRST_ACCOUNT_LINK_FILE, FIRST_ACCOUNT_LINK_TTL_MS, FirstAccountService } from './first-account.service';
import type { UserRecord } from './user.repository';

describe('the first-account link', () => {
  let users: UserRecord[];
  let dataDir: string;
  const accounts = {
    count: async () => users.length,
    add: async (input: { username: string; password: string; role: string }) => {
      // Yields first, as the real KDF does, so racing submissions interleave.
      await new Promise((resolve) => setImmediate(resolve));
      if (input.password.length < 12) throw new ToolError('password: at least 12 characters', 'invalid_argument');
      const user = { username: input.username, role: input.role } as UserRecord;
      users.push(user);
      return user;
    },
  } as unknown as AccountsService;
  const service = (enabled = true) =>
    new FirstAccountService(accounts, { dataDir, publicUrl: 'http://127.0.0.1:8679', firstAccountLink: enabled } as OrchestratorConfig);
  const tokenIn = () => new URL(readFileSync(join(dataDir, FIRST_ACCOUNT_LINK_FILE), 'utf8').trim()).searchParams.get('token') as string;

  beforeEach(() => {
    users = [];
    dataDir = mkdtempSync(join(tmpdir(), 'first-account-'));
  });

  it('writes the link to a file only its owner reads, and creates one admin with it, once', async () => {
    const first = service();
    await first.onApplicationBootstrap();
    expect(statSync(join(dataDir, FIRST_ACCOUNT_LINK_FILE)).mode & 0o777).toBe(0o600);
    const token = tokenIn();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await first.valid(token)).toBe(true);
    expect(await first.create(token, 'root', 'a long passphrase')).toMatchObject({ username: 'root', role: 'admin' });
    expect(await first.valid(token)).toBe(false);
    expect(await first.create(token, 'again', 'a long passphrase')).toBeUndefined();
    expect(existsSync(join(dataDir, FIRST_ACCOUNT_LINK_FILE))).toBe(false);
  });

  it('refuses a wrong, missing or expired token', async () => {
    const first = service();
    await first.onApplicationBootstrap();
    const token = tokenIn();
    expect(await first.valid(undefined)).toBe(false);
    expect(await first.valid(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(await first.valid(token, Date.now() + FIRST_ACCOUNT_LINK_TTL_MS)).toBe(false);
  });

  it('keeps the link usable after a refused password, and lets one of two racing submissions win', async () => {
    const first = service();
    await first.onApplicationBootstrap();
    const token = tokenIn();
    await expect(first.create(token, 'root', 'short')).rejects.toThrow(/at least 12/);
    const outcomes = await Promise.all([first.create(token, 'a', 'a long passphrase'), first.create(token, 'b', 'a long passphrase')]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(users).toHaveLength(1);
  });

  it('makes no link when an account exists or it is turned off, and dies when one is added meanwhile', async () => {
    users.push({ username: 'someone' } as UserRecord);
    await service().onApplicationBootstrap();
    expect(existsSync(join(dataDir, FIRST_ACCOUNT_LINK_FILE))).toBe(false);
    users = [];
    await service(false).onApplicationBootstrap();
    expect(existsSync(join(dataDir, FIRST_ACCOUNT_LINK_FILE))).toBe(false);
    const first = service();
    await first.onApplicationBootstrap();
    const token = tokenIn();
    users.push({ username: 'cli-made' } as UserRecord);
    expect(await first.valid(token)).toBe(false);
    expect(existsSync(join(dataDir, FIRST_ACCOUNT_LINK_FILE))).toBe(false);
  });
});
