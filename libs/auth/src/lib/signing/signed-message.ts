import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { parseExactJson } from './exact-json';
import type { NonceStore } from './nonce-store';
import { pythonJsonDumps } from './python-json';

const HEX64 = /^[0-9a-f]{64}$/;

/** The shared secret as a string, bytes or a secret KeyObject. */
export type HmacKey = string | Buffer | KeyObject;

/** HMAC-SHA256 over Python's `json.dumps(message, sort_keys=True)`, as 64 lowercase hex characters. */
export function signMessage(message: unknown, secret: HmacKey): string {
  return createHmac('sha256', secret).update(pythonJsonDumps(message)).digest('hex');
}

/** Constant-time check of a {@link signMessage} signature; malformed hex is simply false. */
export function verifyMessage(message: unknown, signature: string, secret: HmacKey): boolean {
  return signatureMatches(pythonJsonDumps(message), signature, secret);
}

function signatureMatches(signedText: string, signature: string, secret: HmacKey): boolean {
  if (!HEX64.test(signature)) return false;
  const expected = createHmac('sha256', secret).update(signedText).digest();
  return timingSafeEqual(Buffer.from(signature, 'hex'), expected);
}

/** The predecessors' cross-project message envelope. */
export interface MessageEnvelope {
  readonly message: {
    readonly from_project: string;
    readonly to_project: string;
    readonly content: unknown;
    /** ISO-8601 with an offset. */
    readonly timestamp: string;
  };
  readonly signature: string;
  readonly algorithm: 'HMAC-SHA256';
}

/** Why an envelope was refused. */
export type EnvelopeFailureReason =
  | 'malformed'
  | 'missing_timestamp'
  | 'stale'
  | 'from_the_future'
  | 'wrong_recipient'
  | 'bad_signature'
  | 'replayed'
  | 'replay_store_full'
  | 'replay_store_unavailable';

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly reason: EnvelopeFailureReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/** Builds and signs an envelope (timestamp now, in UTC with an explicit offset). */
export function createEnvelope(
  fields: { from_project: string; to_project: string; content: unknown },
  secret: HmacKey,
  now: Date = new Date(),
): MessageEnvelope {
  const message = { ...fields, timestamp: now.toISOString().replace('Z', '+00:00') };
  return { message, signature: signMessage(message, secret), algorithm: 'HMAC-SHA256' };
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Verifies an envelope. Unlike the predecessors, refuses a missing, stale
 * (> maxAge) or future (> skew) timestamp, a message for another project, and
 * a replay of the same signature inside the window. Any of `secrets` may have signed.
 *
 * Pass the received JSON text, or a value parsed with {@link parseExactJson}:
 * the HMAC covers the sender's numbers (Python's `85.0`, integers beyond 2^53),
 * which `JSON.parse` does not keep.
 */
export async function verifyEnvelope(
  envelope: unknown,
  options: { secrets: readonly HmacKey[]; recipient: string; replays: NonceStore; maxAgeSeconds?: number; skewSeconds?: number; nowMs?: number },
): Promise<MessageEnvelope> {
  let received = envelope;
  if (typeof received === 'string') {
    try {
      received = parseExactJson(received);
    } catch {
      throw new EnvelopeError('malformed', 'envelope is not valid JSON');
    }
  }
  const e = received as Partial<MessageEnvelope> | null;
  if (!e || typeof e !== 'object' || typeof e.message !== 'object' || e.message === null || typeof e.signature !== 'string') {
    throw new EnvelopeError('malformed', 'expected { message, signature, algorithm }');
  }
  if (e.algorithm !== 'HMAC-SHA256') throw new EnvelopeError('malformed', 'algorithm must be HMAC-SHA256');
  const m = e.message;
  if (typeof m.from_project !== 'string' || typeof m.to_project !== 'string') throw new EnvelopeError('malformed', 'from_project and to_project are required');
  if (typeof m.timestamp !== 'string' || m.timestamp === '') throw new EnvelopeError('missing_timestamp', 'message.timestamp is required');
  if (!ISO_WITH_OFFSET.test(m.timestamp)) throw new EnvelopeError('malformed', 'timestamp must be ISO-8601 with an offset');
  const nowMs = options.nowMs ?? Date.now();
  const sentMs = Date.parse(m.timestamp);
  const maxAge = options.maxAgeSeconds ?? 300;
  const skew = options.skewSeconds ?? 30;
  if (nowMs - sentMs > maxAge * 1000) throw new EnvelopeError('stale', `older than ${maxAge}s`);
  if (sentMs - nowMs > skew * 1000) throw new EnvelopeError('from_the_future', `more than ${skew}s ahead`);
  if (m.to_project !== options.recipient) throw new EnvelopeError('wrong_recipient', `addressed to another project`);
  let signedText: string;
  try {
    signedText = pythonJsonDumps(m);
  } catch {
    throw new EnvelopeError('malformed', 'message holds a value Python JSON cannot carry (NaN, Infinity, an overflowing float)');
  }
  if (!options.secrets.some((secret) => signatureMatches(signedText, e.signature as string, secret))) {
    throw new EnvelopeError('bad_signature', 'HMAC does not match');
  }
  const verdict = await options.replays.remember(`envelope:${e.signature}`, sentMs + maxAge * 1000, nowMs);
  if (verdict === 'replayed') throw new EnvelopeError('replayed', 'this envelope was already received');
  if (verdict === 'full') throw new EnvelopeError('replay_store_full', 'too many envelopes inside the replay window; retry later');
  if (verdict === 'unavailable') throw new EnvelopeError('replay_store_unavailable', 'the replay store cannot be reached; retry later');
  return e as MessageEnvelope;
}
