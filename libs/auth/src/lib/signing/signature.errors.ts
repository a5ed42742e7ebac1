/** Why a signed request or message was refused. Part of the wire contract (docs/auth-protocol.md). */
export type SignatureFailureReason =
  | 'signature_missing'
  | 'signature_invalid'
  | 'signature_expired'
  | 'signature_replayed'
  | 'nonce_store_full'
  | 'nonce_store_unavailable'
  | 'digest_mismatch'
  | 'unknown_key';

/** A refused signature. `message` is client-safe; `detail` is for logs. */
export class SignatureError extends Error {
  override readonly name = 'SignatureError';

  constructor(
    readonly reason: SignatureFailureReason,
    readonly detail?: string,
  ) {
    super(`${reason}${detail ? `: ${detail}` : ''}`);
  }
}
