import type { DatabaseEngine } from '@crossauth/storage';
import { testEngines } from '@crossauth/storage/testing';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../storage/orchestrator-migrations';
import type { OAuthClientRecord, OAuthClientRepository } from './oauth-client.repository';
import { PostgresOAuthClientRepository } from './postgres-oauth-client.repository';
import { SqliteOAuthClientRepository } from './sqlite-oauth-client.repository';

const DAY = 86_400_000;
const record = (id: string, dynamic: boolean, createdAt: number): OAuthClientRecord => ({
  id,
  name: null,
  allowedScopes: ['read'],
  allowedResources: ['http://127.0.0.1:8678/mcp'],
  secretHash: null,
  secretKeyId: null,
  jwks: null,
  redirectUris: ['http://127.0.0.1/callback'],
  createdAt,
  secretRotatedAt: null,
  dynamic,
  lastUsedAt: null,
});

describe.each(testEngines('orchestrator', { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }))('registered clients on $name', (spec) => {
  let engine: DatabaseEngine;
  let clients: OAuthClientRepository;
  beforeAll(async () => {
    engine = await spec.open();
    clients = engine.kind === 'postgres' ? new PostgresOAuthClientRepository(engine) : new SqliteOAuthClientRepository(engine);
  });
  afterAll(async () => {
    await engine.close();
    await spec.cleanup();
  });

  it('finds only the self-registered clients unused since a moment: never used, or used before it', async () => {
    const now = Date.now();
    await clients.insert(record('admin-made', false, now - 90 * DAY));
    await clients.insert(record('mcp-stale', true, now - 90 * DAY));
    await clients.insert(record('mcp-used', true, now - 90 * DAY));
    await clients.insert(record('mcp-fresh', true, now - DAY));
    await clients.insert(record('mcp-used-long-ago', true, now - 90 * DAY));
    await clients.touch('mcp-used', now - DAY);
    await clients.touch('mcp-used-long-ago', now - 60 * DAY);
    expect((await clients.unusedDynamic(now - 30 * DAY)).sort()).toEqual(['mcp-stale', 'mcp-used-long-ago']);
    expect(await clients.find('mcp-used')).toMatchObject({ dynamic: true, lastUsedAt: now - DAY });
    expect(await clients.find('admin-made')).toMatchObject({ dynamic: false, lastUsedAt: null });
  });
});
