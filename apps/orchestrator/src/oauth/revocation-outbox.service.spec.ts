import type { DatabaseEngine } from '@crossauth/storage';
import { testEngines, type TestEngine } from '@crossauth/storage/testing';
import type { OrchestratorConfig } from '../config/env.schema';
import type { SessionBuddyClient } from '../session-buddy-client/session-buddy.client';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../storage/orchestrator-migrations';
import { PostgresRevocationOutboxRepository } from './postgres-revocation-outbox.repository';
import type { RevocationOutboxRepository } from './revocation-outbox.repository';
import { RevocationOutboxService } from './revocation-outbox.service';
import { SqliteRevocationOutboxRepository } from './sqlite-revocation-outbox.repository';

const SB = 'http://127.0.0.1:8678/mcp';
const config = (retryMax = 60) =>
  ({ sessionBuddy: { url: SB }, auth: { callerId: 'orchestrator' }, oauth: { revocationRetryMaxSeconds: retryMax } }) as unknown as OrchestratorConfig;

/** session-buddy as the outbox sees it: answers each call with the next outcome given, then with the last one. */
function downstream(...outcomes: Array<'ok' | 'down' | 'refused'>) {
  const calls: Array<{ subject: string; scopes: readonly string[]; tool: string; args: Record<string, unknown> }> = [];
  const client = {
    callTool: async (subject: string, scopes: readonly string[], tool: string, args: Record<string, unknown>) => {
      calls.push({ subject, scopes, tool, args });
      const outcome = outcomes.length > 1 ? outcomes.shift() : outcomes[0];
      if (outcome === 'down') throw new Error(`session-buddy at ${SB} could not be reached after 4 attempts`);
      if (outcome === 'refused') return { isError: true, content: [{ type: 'text', text: 'malformed subject' }] };
      return { content: [{ type: 'text', text: '{}' }] };
    },
  };
  return { client: client as unknown as SessionBuddyClient, calls };
}

const repoOf = (engine: DatabaseEngine): RevocationOutboxRepository =>
  engine.kind === 'postgres' ? new PostgresRevocationOutboxRepository(engine) : new SqliteRevocationOutboxRepository(engine);
const open = async (spec: TestEngine) => {
  const engine = await spec.open();
  return { engine, repo: repoOf(engine) };
};
const engines = testEngines('orchestrator', { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS });

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(engines)('revocation outbox on $name', (spec) => {
  let engine: DatabaseEngine;
  let repo: RevocationOutboxRepository;
  const services: RevocationOutboxService[] = [];
  const service = (client: SessionBuddyClient, retryMax?: number, store = repo) => {
    const s = new RevocationOutboxService(store, client, config(retryMax));
    services.push(s);
    return s;
  };
  beforeAll(async () => ({ engine, repo } = await open(spec)));
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.onApplicationShutdown()));
  });
  afterAll(async () => {
    await engine.close();
    await spec.cleanup();
  });

  it('delivers at once to session-buddy, as the orchestrator with admin scope, and keeps the confirmation', async () => {
    const sb = downstream('ok');
    const outbox = service(sb.client);
    const queued = await outbox.enqueue('ok-client', 'revoke_subject', { subject: 'ok-client', issued_before: '2026-12-07T08:00:00.000Z' });
    const after = await outbox.attempt(queued);
    expect(after).toMatchObject({ attempts: 1, lastError: null, target: SB });
    expect(after.deliveredAt).toEqual(expect.any(Number));
    expect(sb.calls).toEqual([
      { subject: 'orchestrator', scopes: ['admin'], tool: 'revoke_subject', args: { subject: 'ok-client', issued_before: '2026-12-07T08:00:00.000Z' } },
    ]);
    const [stored] = await outbox.forSubject('ok-client');
    expect(stored).toMatchObject({ id: queued.id, deliveredAt: after.deliveredAt, attempts: 1 });
    expect(await repo.due(Date.now() + 3600_000, 10)).not.toContainEqual(expect.objectContaining({ id: queued.id }));
  });

  it.each([
    ['session-buddy is unreachable', 'down', /could not be reached/],
    ['session-buddy refuses the revocation', 'refused', /session-buddy refused revoke_subject: malformed subject/],
  ] as const)('keeps a delivery pending, with the reason, when %s', async (_name, outcome, reason) => {
    const outbox = service(downstream(outcome).client);
    const subject = `pending-${outcome}`;
    const queued = await outbox.enqueue(subject, 'revoke_subject', { subject, issued_before: new Date().toISOString() });
    const before = Date.now();
    const after = await outbox.attempt(queued);
    expect(after.deliveredAt).toBeNull();
    expect(after.lastError).toMatch(reason);
    expect(after.nextAttemptAt).toBeGreaterThanOrEqual(before + 1000);
    const [stored] = await outbox.forSubject(subject);
    expect(stored).toMatchObject({ attempts: 1, deliveredAt: null, lastError: after.lastError, nextAttemptAt: after.nextAttemptAt });
    expect(await repo.due(after.nextAttemptAt, 100)).toContainEqual(expect.objectContaining({ id: queued.id }));
  });

  it('backs off exponentially between attempts, capped by the retry maximum', async () => {
    const outbox = service(downstream('down').client, 3);
    let d = await outbox.enqueue('backoff', 'revoke_token', { jti: 'j-1' });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = Date.now();
      d = await outbox.attempt(d);
      waits.push(Math.round((d.nextAttemptAt - at) / 1000));
    }
    expect(waits).toEqual([1, 2, 3, 3]);
    expect(d.attempts).toBe(4);
  });

  it('joins an attempt already under way instead of sending twice', async () => {
    const sb = downstream('ok');
    const outbox = service(sb.client);
    const queued = await outbox.enqueue('joined', 'revoke_token', { jti: 'j-2' });
    const [a, b] = await Promise.all([outbox.attempt(queued), outbox.attempt(queued)]);
    expect(a).toEqual(b);
    expect(sb.calls).toHaveLength(1);
  });

  it('delivers what an earlier process left pending once it starts again (the outbox survives a restart)', async () => {
    const first = service(downstream('down').client, 1);
    const queued = await first.attempt(await first.enqueue('restart', 'revoke_subject', { subject: 'restart', issued_before: new Date().toISOString() }));
    expect(queued.deliveredAt).toBeNull();
    await first.onApplicationShutdown();
    await engine.close();
    ({ engine, repo } = await open(spec));
    const sb = downstream('ok');
    service(sb.client, 1, repo).onApplicationBootstrap();
    await until(async () => (await repo.forSubject('restart'))[0]?.deliveredAt != null);
    expect(sb.calls.map((c) => c.args)).toContainEqual({ subject: 'restart', issued_before: queued.args['issued_before'] });
  });

  it('forgets only confirmed deliveries when pruning', async () => {
    const outbox = service(downstream('ok', 'down').client);
    const done = await outbox.attempt(await outbox.enqueue('prune', 'revoke_token', { jti: 'done' }));
    await outbox.attempt(await outbox.enqueue('prune', 'revoke_token', { jti: 'open' }));
    await repo.prune(Number(done.deliveredAt) + 1);
    expect((await repo.forSubject('prune')).map((d) => d.args['jti'])).toEqual(['open']);
  });
});
