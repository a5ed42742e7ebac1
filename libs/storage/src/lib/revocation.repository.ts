/** A persisted revocation; times are seconds since the epoch. */
export interface RevocationRow {
  readonly kind: 'token' | 'subject';
  /** The token's `jti`, or the subject. */
  readonly value: string;
  /** For a subject: tokens issued before this are revoked. */
  readonly issuedBefore: number | null;
  /** When every token it covers has expired, so the row can go. */
  readonly expiresAt: number;
  readonly revokedAt: number;
  readonly revokedBy: string;
}

/** Where revocations are kept, so a restart, or another instance, forgets none. */
export interface RevocationRepository {
  /** Inserts or widens (later `issuedBefore`, later `expiresAt`) a revocation. */
  upsert(row: RevocationRow): Promise<void>;
  /** Every revocation still in force at `nowSeconds`. */
  live(nowSeconds: number): Promise<RevocationRow[]>;
  /** Deletes revocations whose tokens have all expired. */
  purge(nowSeconds: number): Promise<void>;
}

/** A revocation as both engines' tables hold it (snake_case columns). */
export type RevocationTableRow = {
  kind: 'token' | 'subject';
  value: string;
  issued_before: number | null;
  expires_at: number;
  revoked_at: number;
  revoked_by: string;
};

export const toRevocation = (r: RevocationTableRow): RevocationRow => ({
  kind: r.kind,
  value: r.value,
  issuedBefore: r.issued_before,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
});
