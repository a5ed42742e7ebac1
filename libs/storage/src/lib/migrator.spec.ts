import { Logger } from '@nestjs/common';
import { migrate, type MigrationTarget } from './migrator';

/** An engine that records what the migrator asked of it. */
function fakeEngine(startAt: number, failOn?: number) {
  const calls: string[] = [];
  let version = startAt;
  const target: MigrationTarget = {
    exclusive: async (fn) => {
      calls.push('lock');
      try {
        return await fn();
      } finally {
        calls.push('unlock');
      }
    },
    version: async () => version,
    apply: async (v, sql) => {
      if (v === failOn) throw new Error(`migration ${v} failed`);
      calls.push(`apply ${v}: ${sql}`);
      version = v;
    },
  };
  return { target, calls, version: () => version };
}

const logger = new Logger('spec');
beforeAll(() => Logger.overrideLogger(false));

describe('migrate', () => {
  it('applies the missing migrations in order, all under one lock', async () => {
    const engine = fakeEngine(1);
    expect(await migrate(engine.target, ['one', 'two', 'three'], logger)).toBe(3);
    expect(engine.calls).toEqual(['lock', 'apply 2: two', 'apply 3: three', 'unlock']);
  });

  it('applies nothing to an up-to-date database', async () => {
    const engine = fakeEngine(2);
    await migrate(engine.target, ['one', 'two'], logger);
    expect(engine.calls).toEqual(['lock', 'unlock']);
  });

  it('refuses a database newer than this build, and releases the lock', async () => {
    const engine = fakeEngine(5);
    await expect(migrate(engine.target, ['one', 'two'], logger)).rejects.toThrow(/schema version 5, newer than this build knows \(2\)/);
    expect(engine.calls).toEqual(['lock', 'unlock']);
  });

  it('stops at a failing migration, leaving the earlier ones applied, and releases the lock', async () => {
    const engine = fakeEngine(0, 2);
    await expect(migrate(engine.target, ['one', 'two', 'three'], logger)).rejects.toThrow('migration 2 failed');
    expect(engine.version()).toBe(1);
    expect(engine.calls.at(-1)).toBe('unlock');
  });
});
