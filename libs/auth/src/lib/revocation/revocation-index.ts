import type { Principal } from '../principal';
import type { RevocationStore } from './revocation-store';

/**
 * Revocations held in memory for the request path: by token id, and by
 * subject ("every token of this subject issued before T"). Entries carry the
 * time after which no token they cover can still be valid, and are purged then.
 */
export class RevocationIndex implements RevocationStore {
  private readonly tokens = new Map<string, number>();
  private readonly subjects = new Map<string, { before: number; expiresAt: number }>();

  isRevoked(principal: Principal): boolean {
    if (principal.tokenId !== undefined && this.tokens.has(principal.tokenId)) return true;
    const subject = this.subjects.get(principal.subject);
    // A token without iat cannot prove it is newer than the revocation.
    return subject !== undefined && (principal.issuedAt ?? 0) < subject.before;
  }

  /** Revokes one token id until `expiresAt` (seconds). */
  addToken(jti: string, expiresAt: number): void {
    this.tokens.set(jti, Math.max(expiresAt, this.tokens.get(jti) ?? 0));
  }

  /** Revokes every token of `subject` issued before `before` (seconds), until `expiresAt`. */
  addSubject(subject: string, before: number, expiresAt: number): void {
    const existing = this.subjects.get(subject);
    this.subjects.set(subject, { before: Math.max(before, existing?.before ?? 0), expiresAt: Math.max(expiresAt, existing?.expiresAt ?? 0) });
  }

  /** Drops entries whose tokens have all expired. */
  purge(nowSeconds: number): void {
    for (const [jti, expiresAt] of this.tokens) if (expiresAt <= nowSeconds) this.tokens.delete(jti);
    for (const [subject, entry] of this.subjects) if (entry.expiresAt <= nowSeconds) this.subjects.delete(subject);
  }

  get size(): { tokens: number; subjects: number } {
    return { tokens: this.tokens.size, subjects: this.subjects.size };
  }
}
