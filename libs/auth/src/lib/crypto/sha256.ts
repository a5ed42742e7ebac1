import * as crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';

// SHA-256 and HMAC-SHA256 (RFC 2104) over Node's one-shot hash, for the hashing
// on request paths (content digests, bearer digests, request signatures, JWT
// MACs). Why not createHash/createHmac: each call builds a stream-capable object
// backed by a native handle that the GC has to finalise, and OpenSSL
// re-initialises its context. Inside the MCP server an HMAC that way measured
// 9.5-11 µs per signed request (CPU profile, bench `profile --signed`); two
// one-shot hashes over prepared key pads measured ~4. Where one-shot hashing is
// missing (Node < 20.12) or an HMAC message would not fit the scratch buffer, the
// object APIs answer instead; the spec pins both to RFC 4231's vectors and to
// each other.

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
const MAX_MESSAGE_CHARS = 4096;

/** Text encodings the digests are wanted in. */
export type DigestEncoding = 'base64' | 'base64url';

type OneShotHash = (algorithm: string, data: Uint8Array | string, outputEncoding: DigestEncoding | 'latin1') => string;
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

/** SHA-256 of bytes, or of a string's UTF-8 bytes. */
export function sha256(data: Uint8Array | string, encoding: DigestEncoding): string {
  return oneShot ? oneShot('sha256', data, encoding) : crypto.createHash('sha256').update(data).digest(encoding);
}

interface Pads {
  /** key XOR ipad. */
  readonly inner: Buffer;
  /** key XOR opad, then room for the inner digest: the outer hash's whole input. */
  readonly outer: Buffer;
}

// Derived once per key. The pads are as secret as the key: they never leave this module.
const padsByKey = new WeakMap<KeyObject, Pads>();
// key XOR ipad || message, rewritten by every call (calls are synchronous).
const scratch = Buffer.alloc(BLOCK_BYTES + MAX_MESSAGE_CHARS * 3);
// Views of the scratch's first n bytes, by n. Messages of one kind come in a few
// lengths (a signature base varies only with the key id and nonce lengths), so a
// handful of views serve them instead of a new one per call.
const scratchViews = new Map<number, Uint8Array>();
const MAX_SCRATCH_VIEWS = 64;

function scratchView(length: number): Uint8Array {
  let view = scratchViews.get(length);
  if (!view) {
    view = new Uint8Array(scratch.buffer, scratch.byteOffset, length);
    if (scratchViews.size < MAX_SCRATCH_VIEWS) scratchViews.set(length, view);
  }
  return view;
}

function padsFor(key: KeyObject): Pads {
  let pads = padsByKey.get(key);
  if (pads) return pads;
  let raw = key.export();
  // RFC 2104 §2: keys longer than the block are hashed first.
  if (raw.length > BLOCK_BYTES) raw = crypto.createHash('sha256').update(raw).digest();
  const inner = Buffer.alloc(BLOCK_BYTES, 0x36);
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES, 0x5c);
  for (let i = 0; i < raw.length; i++) {
    inner[i] = (inner[i] as number) ^ (raw[i] as number);
    outer[i] = (outer[i] as number) ^ (raw[i] as number);
  }
  raw.fill(0);
  pads = { inner, outer };
  padsByKey.set(key, pads);
  return pads;
}

/** HMAC-SHA256 of a string's UTF-8 bytes under a secret `KeyObject`. */
export function hmacSha256(key: KeyObject, message: string, encoding: DigestEncoding): string {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit, so this bound guarantees the fit.
  if (!oneShot || message.length > MAX_MESSAGE_CHARS) return crypto.createHmac('sha256', key).update(message).digest(encoding);
  const pads = padsFor(key);
  pads.inner.copy(scratch, 0);
  const length = BLOCK_BYTES + scratch.write(message, BLOCK_BYTES, 'utf8');
  // The inner digest comes back as a 32-char latin1 string, a plain heap string:
  // asked for as a Buffer it got a native backing store of its own per call
  // (~0.35 µs more, and external memory for the GC to account).
  const inner = oneShot('sha256', scratchView(length), 'latin1');
  pads.outer.write(inner, BLOCK_BYTES, 'latin1');
  return oneShot('sha256', pads.outer, encoding);
}
