import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { TOKEN_SIGNING_ALGORITHMS, generateSigningKey, signingKeyFromJwk, type PrivateSigningKey, type TokenSigningAlgorithm } from './asymmetric-key';
import type { SigningKeySource } from './public-key-source';

/** One key as kept on disk. Times are Unix seconds. */
interface StoredKey {
  readonly kid: string;
  readonly alg: TokenSigningAlgorithm;
  readonly private_jwk: JsonWebKey;
  readonly created_at: number;
  /** When it starts signing: a rotated-in key is published `publishSeconds` before that. */
  readonly active_from: number;
}

interface KeySetFile {
  readonly version: 1;
  readonly keys: readonly StoredKey[];
}

/** When keys move between states. Seconds. */
export interface KeySchedule {
  /** How long a new key is published before it signs: at least the verifiers' JWKS refresh interval. */
  readonly publishSeconds: number;
  /** How long a replaced key stays published: at least the longest lifetime of a token it signed. */
  readonly retainSeconds: number;
}

/** A key's place in the rotation at a moment. */
export type SigningKeyState = 'next' | 'current' | 'retiring';

/** What `list` reports of a key. Public facts only. */
export interface SigningKeyInfo {
  readonly kid: string;
  readonly alg: TokenSigningAlgorithm;
  readonly state: SigningKeyState;
  readonly createdAt: string;
  readonly activeFrom: string;
  /** For a retiring key: when it leaves the JWKS. */
  readonly unpublishedAt?: string;
}

interface Loaded {
  readonly stored: StoredKey;
  readonly key: PrivateSigningKey;
}

interface Snapshot {
  readonly current: Loaded;
  readonly published: readonly Loaded[];
  readonly byKid: ReadonlyMap<string, Loaded>;
  /** The snapshot holds until this time (ms): then a next key activates or a retiring key leaves. */
  readonly validUntilMs: number;
}

/** The states of every key at `nowSeconds`; keys past retention are left out. */
function snapshotOf(keys: readonly Loaded[], nowSeconds: number, retainSeconds: number): Snapshot {
  const ordered = [...keys].sort((a, b) => a.stored.active_from - b.stored.active_from || a.stored.created_at - b.stored.created_at);
  const activeIndex = ordered.reduce((found, k, i) => (k.stored.active_from <= nowSeconds ? i : found), -1);
  // No key active yet (a clock moved back): the earliest one signs rather than nothing.
  const index = Math.max(0, activeIndex);
  const current = ordered[index] as Loaded;
  const published: Loaded[] = [];
  let validUntil = Number.POSITIVE_INFINITY;
  ordered.forEach((k, i) => {
    if (i > index) {
      published.push(k);
      validUntil = Math.min(validUntil, k.stored.active_from);
    } else if (i === index) {
      published.push(k);
    } else {
      // Replaced when its successor became active; published while its tokens can live.
      const leavesAt = (ordered[i + 1] as Loaded).stored.active_from + retainSeconds;
      if (leavesAt > nowSeconds) {
        published.push(k);
        validUntil = Math.min(validUntil, leavesAt);
      }
    }
  });
  return { current, published, byKid: new Map(published.map((k) => [k.stored.kid, k])), validUntilMs: validUntil * 1000 };
}

function readKeySet(path: string): KeySetFile {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as KeySetFile;
  if (doc?.version !== 1 || !Array.isArray(doc.keys) || doc.keys.length === 0) throw new Error(`${path} is not a crossauth signing key set`);
  return doc;
}

function load(file: KeySetFile, path: string): Loaded[] {
  return file.keys.map((stored) => {
    if (!(TOKEN_SIGNING_ALGORITHMS as readonly string[]).includes(stored.alg)) throw new Error(`${path}: a key has an unsupported alg`);
    const key = signingKeyFromJwk(stored.private_jwk, stored.alg);
    if (key.kid !== stored.kid) throw new Error(`${path}: a key's kid does not match its thumbprint`);
    return { stored, key };
  });
}

/** Writes the whole set to a temporary file, syncs it, and renames it over the old one: readers see the old set or the new, never half. Owner-only. */
function writeKeySet(path: string, file: KeySetFile, exclusive: boolean): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const target = exclusive ? path : `${path}.${process.pid}.tmp`;
  const fd = openSync(target, exclusive ? 'wx' : 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (!exclusive) renameSync(target, path);
}

function storedKeyOf(key: PrivateSigningKey, createdAt: number, activeFrom: number): StoredKey {
  return { kid: key.kid, alg: key.alg, private_jwk: key.privateKey.export({ format: 'jwk' }), created_at: createdAt, active_from: activeFrom };
}

/**
 * A signing key set kept in one file (private keys, owner-only), shared by every
 * instance that mounts it. Rotation adds the next key with a start time
 * `publishSeconds` ahead, so it is in the JWKS before any token needs it; the
 * replaced key stays published `retainSeconds` more, then leaves. Each instance
 * computes the states from the same times, so they switch together, and
 * notices another instance's rotation by the file's change time.
 */
export class FileSigningKeys implements SigningKeySource {
  private readonly logger = new Logger('SigningKeys');
  private keys: Loaded[];
  private snapshot: Snapshot;
  private fileStamp: string;
  private watcher: NodeJS.Timeout | undefined;
  readonly issuers: readonly string[] = [];

  private constructor(
    readonly path: string,
    private readonly schedule: KeySchedule,
    keys: Loaded[],
  ) {
    this.keys = keys;
    this.snapshot = snapshotOf(keys, Date.now() / 1000, schedule.retainSeconds);
    this.fileStamp = stampOf(statSync(path));
  }

  /**
   * Opens the set at `path`, creating it when there is none. The first key is
   * `provided` (an operator's key file) or a new `alg` key, active at once. A
   * provided key the set does not hold yet is added as the next key, published
   * now and signing after the publish lead: replacing the key file and
   * restarting is a rotation too.
   */
  static openOrCreate(path: string, alg: TokenSigningAlgorithm, schedule: KeySchedule, provided?: PrivateSigningKey): FileSigningKeys {
    let file: KeySetFile;
    const now = Math.floor(Date.now() / 1000);
    try {
      file = readKeySet(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const first = { version: 1 as const, keys: [storedKeyOf(provided ?? generateSigningKey(alg), now, now)] };
      try {
        writeKeySet(path, first, true);
        file = first;
      } catch (raced) {
        // Another instance created it first: use theirs.
        if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
        file = readKeySet(path);
      }
    }
    const keys = new FileSigningKeys(path, schedule, load(file, path));
    if (provided && !file.keys.some((k) => k.kid === provided.kid)) keys.add(provided, now);
    return keys;
  }

  get current(): PrivateSigningKey {
    return this.now().current.key;
  }

  find(kid: string): PrivateSigningKey | undefined {
    return this.now().byKid.get(kid)?.key;
  }

  get keyIds(): string[] {
    return this.now().published.map((k) => k.stored.kid);
  }

  /** The keys to publish in the JWKS, next and retiring keys included. */
  get published(): PrivateSigningKey[] {
    return this.now().published.map((k) => k.key);
  }

  /** Every published key with its state, for operators. */
  list(): SigningKeyInfo[] {
    const snap = this.now();
    const ordered = [...this.keys].sort((a, b) => a.stored.active_from - b.stored.active_from);
    const iso = (s: number) => new Date(s * 1000).toISOString();
    return snap.published.map((k) => {
      const state: SigningKeyState = k === snap.current ? 'current' : k.stored.active_from > snap.current.stored.active_from ? 'next' : 'retiring';
      const successor = ordered[ordered.indexOf(k) + 1];
      return {
        kid: k.stored.kid,
        alg: k.stored.alg,
        state,
        createdAt: iso(k.stored.created_at),
        activeFrom: iso(k.stored.active_from),
        ...(state === 'retiring' && successor ? { unpublishedAt: iso(successor.stored.active_from + this.schedule.retainSeconds) } : {}),
      };
    });
  }

  /**
   * Adds the next key (published now, signing `publishSeconds` from now) and
   * drops keys no longer published. Returns the new key's id and start time.
   */
  rotate(alg: TokenSigningAlgorithm): { kid: string; activeFrom: string } {
    this.reloadIfChanged();
    return this.add(generateSigningKey(alg), Math.floor(Date.now() / 1000));
  }

  private add(next: PrivateSigningKey, now: number): { kid: string; activeFrom: string } {
    const latest = Math.max(...this.keys.map((k) => k.stored.active_from));
    // After a pending next key, never before it: rotations queue up in order.
    const activeFrom = Math.max(now + this.schedule.publishSeconds, latest + 1);
    const published = this.now().byKid;
    const kept = this.keys.filter((k) => published.has(k.stored.kid));
    const file: KeySetFile = { version: 1, keys: [...kept.map((k) => k.stored), storedKeyOf(next, now, activeFrom)] };
    writeKeySet(this.path, file, false);
    this.install(load(file, this.path));
    this.logger.warn({ event: 'signing_key_added', kid: next.kid, alg: next.alg, activeFrom: new Date(activeFrom * 1000).toISOString() });
    return { kid: next.kid, activeFrom: new Date(activeFrom * 1000).toISOString() };
  }

  /** Checks the file every `intervalMs` and reloads when another process rewrote it. */
  watch(intervalMs = 2000): void {
    this.watcher = setInterval(() => this.reloadIfChanged(), intervalMs);
    this.watcher.unref();
  }

  stop(): void {
    if (this.watcher) clearInterval(this.watcher);
  }

  /** Reloads when the file changed; a bad file is logged and the keys in memory stay. */
  reloadIfChanged(): boolean {
    try {
      const stamp = stampOf(statSync(this.path));
      if (stamp === this.fileStamp) return false;
      this.install(load(readKeySet(this.path), this.path));
      this.fileStamp = stamp;
      this.logger.log({ event: 'signing_keys_reloaded', keyIds: this.keyIds });
      return true;
    } catch (error) {
      this.logger.error({ event: 'signing_keys_reload_failed', error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  private install(keys: Loaded[]): void {
    this.keys = keys;
    this.snapshot = snapshotOf(keys, Date.now() / 1000, this.schedule.retainSeconds);
    try {
      this.fileStamp = stampOf(statSync(this.path));
    } catch {
      // Checked again by the watcher.
    }
  }

  private now(): Snapshot {
    const nowMs = Date.now();
    if (nowMs >= this.snapshot.validUntilMs) {
      const before = this.snapshot.current.stored.kid;
      this.snapshot = snapshotOf(this.keys, nowMs / 1000, this.schedule.retainSeconds);
      if (this.snapshot.current.stored.kid !== before) this.logger.warn({ event: 'signing_key_activated', kid: this.snapshot.current.stored.kid });
    }
    return this.snapshot;
  }
}

function stampOf(stats: Stats): string {
  return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
}
