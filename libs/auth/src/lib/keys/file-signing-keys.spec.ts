import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from './asymmetric-key';
import { FileSigningKeys } from './file-signing-keys';

describe('FileSigningKeys', () => {
  let dir: string;
  let file: string;
  const schedule = { publishSeconds: 600, retainSeconds: 330 };
  const t0 = Date.UTC(2026, 11, 2, 8, 0, 0);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crossauth-keys-'));
    file = join(dir, 'sub', 'signing-keys.json');
    jest.useFakeTimers({ now: t0, doNotFake: ['setInterval', 'setTimeout', 'setImmediate', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });
  const at = (seconds: number) => jest.setSystemTime(t0 + seconds * 1000);

  it('creates one key at first start, active at once, in an owner-only file', () => {
    const keys = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    expect(keys.keyIds).toEqual([keys.current.kid]);
    expect(keys.current.alg).toBe('EdDSA');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
  });

  it('a second start (or a second instance) uses the same key', () => {
    const a = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const b = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    expect(b.current.kid).toBe(a.current.kid);
  });

  it('rotation publishes the next key first, signs with it after the publish lead, and retires the old one after its tokens expire', () => {
    const keys = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const first = keys.current.kid;
    const { kid: next } = keys.rotate('ES256');
    expect(keys.current.kid).toBe(first);
    expect(keys.keyIds).toEqual([first, next]);
    expect(keys.list().map((k) => k.state)).toEqual(['current', 'next']);
    expect(keys.find(next)?.alg).toBe('ES256');

    at(599);
    expect(keys.current.kid).toBe(first);
    at(600);
    expect(keys.current.kid).toBe(next);
    expect(keys.list().map((k) => [k.kid, k.state])).toEqual([
      [first, 'retiring'],
      [next, 'current'],
    ]);
    at(600 + 329);
    expect(keys.find(first)).toBeDefined();
    at(600 + 330);
    expect(keys.find(first)).toBeUndefined();
    expect(keys.keyIds).toEqual([next]);
  });

  it('a rotation drops keys that are no longer published from the file', () => {
    const keys = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const first = keys.current.kid;
    keys.rotate('EdDSA');
    at(2000);
    keys.rotate('EdDSA');
    expect(readFileSync(file, 'utf8')).not.toContain(first);
    expect(keys.keyIds).not.toContain(first);
  });

  it('rotations in a row queue up: each next key starts after the one before', () => {
    const keys = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const a = keys.rotate('EdDSA');
    const b = keys.rotate('EdDSA');
    expect(Date.parse(b.activeFrom)).toBeGreaterThan(Date.parse(a.activeFrom));
    at(600);
    expect(keys.current.kid).toBe(a.kid);
    at(601);
    expect(keys.current.kid).toBe(b.kid);
  });

  it('another instance sees a rotation when it re-reads the changed file', () => {
    const a = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const b = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const { kid } = a.rotate('EdDSA');
    expect(b.keyIds).not.toContain(kid);
    expect(b.reloadIfChanged()).toBe(true);
    expect(b.keyIds).toContain(kid);
    expect(b.reloadIfChanged()).toBe(false);
  });

  it('keeps its keys when the file is damaged, and refuses to start on one', () => {
    const keys = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const kid = keys.current.kid;
    writeFileSync(file, '{"version": 1, "keys": []}');
    expect(keys.reloadIfChanged()).toBe(false);
    expect(keys.current.kid).toBe(kid);
    expect(() => FileSigningKeys.openOrCreate(file, 'EdDSA', schedule)).toThrow(/not a crossauth signing key set/);
  });

  it('refuses a key whose kid does not match its key (a hand-edited file)', () => {
    FileSigningKeys.openOrCreate(file, 'EdDSA', schedule);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.keys[0].kid = 'somebody-else';
    writeFileSync(file, JSON.stringify(doc));
    expect(() => FileSigningKeys.openOrCreate(file, 'EdDSA', schedule)).toThrow(/does not match its thumbprint/);
  });
});

describe("FileSigningKeys with an operator's key file", () => {
  let dir: string;
  const schedule = { publishSeconds: 600, retainSeconds: 330 };
  const t0 = Date.UTC(2026, 11, 2, 9, 0, 0);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crossauth-keys-provided-'));
    jest.useFakeTimers({ now: t0, doNotFake: ['setInterval', 'setTimeout', 'setImmediate', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs with the provided key from the first start', () => {
    const provided = generateSigningKey('ES256');
    const keys = FileSigningKeys.openOrCreate(join(dir, 'set.json'), 'ES256', schedule, provided);
    expect(keys.current.kid).toBe(provided.kid);
    expect(keys.keyIds).toEqual([provided.kid]);
  });

  it('a replaced key file is a rotation: published at the next start, signing after the lead', () => {
    const file = join(dir, 'set.json');
    const first = generateSigningKey('EdDSA');
    FileSigningKeys.openOrCreate(file, 'EdDSA', schedule, first);
    const second = generateSigningKey('EdDSA');
    const keys = FileSigningKeys.openOrCreate(file, 'EdDSA', schedule, second);
    expect(keys.current.kid).toBe(first.kid);
    expect(keys.keyIds).toEqual([first.kid, second.kid]);
    jest.setSystemTime(t0 + 600_000);
    expect(keys.current.kid).toBe(second.kid);
    // The same file again changes nothing.
    expect(FileSigningKeys.openOrCreate(file, 'EdDSA', schedule, second).keyIds).toEqual([first.kid, second.kid]);
  });
});
