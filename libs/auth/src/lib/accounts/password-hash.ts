import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters: N = 2^log2N, block size r, parallelism p. */
export interface PasswordHashParams {
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * OWASP's scrypt setting for 32 MiB of memory per hash (N=2^15, r=8, p=3):
 * ~0.3 s of one thread on this project's 2-core test machine, run on libuv's
 * pool so the event loop never waits on it. A stored hash names its own
 * parameters, so raising these later re-hashes at the next sign-in.
 */
export const PASSWORD_HASH_PARAMS: PasswordHashParams = { log2N: 15, r: 8, p: 3 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Parameters a stored hash may name: enough for any sane setting, bounded so a planted row cannot exhaust memory. */
const LIMITS = { log2N: [10, 20], r: [1, 32], p: [1, 16] } as const;
/** Passwords are compared as bytes after Unicode NFC, so the same password typed on two systems matches. */
const MIN_PASSWORD_CHARS = 12;
const MAX_PASSWORD_BYTES = 1024;

/** Raw scrypt (RFC 7914) through node:crypto, with the memory limit the parameters need. */
export function scryptKey(password: string | Buffer, salt: Buffer | string, keyBytes: number, params: PasswordHashParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password, salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Why a new password is refused, or undefined when it is acceptable (length only: NIST SP 800-63B, no composition rules). */
export function passwordProblem(password: string): string | undefined {
  const normalized = password.normalize('NFC');
  if ([...normalized].length < MIN_PASSWORD_CHARS) return `a password needs at least ${MIN_PASSWORD_CHARS} characters`;
  if (Buffer.byteLength(normalized, 'utf8') > MAX_PASSWORD_BYTES) return `a password may have at most ${MAX_PASSWORD_BYTES} bytes`;
  return undefined;
}

/** A PHC-style string, `$scrypt$ln=15,r=8,p=3$<salt>$<hash>` (base64url): what is stored, never the password. */
export async function hashPassword(password: string, params: PasswordHashParams = PASSWORD_HASH_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptKey(password.normalize('NFC'), salt, KEY_BYTES, params);
  return `$scrypt$ln=${params.log2N},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** The parameters and parts of a stored hash, or undefined when it is not one of ours within bounds. */
function parse(stored: string): { params: PasswordHashParams; salt: Buffer; key: Buffer } | undefined {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/.exec(stored);
  if (!m) return undefined;
  const params = { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const [name, [low, high]] of Object.entries(LIMITS)) {
    const value = params[name as keyof PasswordHashParams];
    if (value < low || value > high) return undefined;
  }
  return { params, salt: Buffer.from(m[4] as string, 'base64url'), key: Buffer.from(m[5] as string, 'base64url') };
}

/** Constant-time: whether `password` is the one behind `stored`. A malformed stored value matches nothing. */
export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES * 4) return false;
  const key = await scryptKey(password.normalize('NFC'), parsed.salt, parsed.key.length, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** Whether a stored hash was made with weaker parameters than `current` (re-hash it at the next sign-in). */
export function passwordNeedsRehash(stored: string, current: PasswordHashParams = PASSWORD_HASH_PARAMS): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.params.log2N < current.log2N || parsed.params.r < current.r || parsed.params.p < current.p;
}
