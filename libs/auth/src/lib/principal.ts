/** Scopes understood by crossauth services. `admin` implies every other scope. */
export const SCOPES = ['read', 'write', 'delete', 'admin'] as const;
export type KnownScope = (typeof SCOPES)[number];

/** Roles carried in a token's `role` claim and the scopes each one grants. */
export const ROLE_SCOPES: Readonly<Record<string, readonly string[]>> = {
  viewer: ['read'],
  developer: ['read', 'write'],
  admin: ['admin'],
  // The Python Mahavishnu orchestrator mints tokens with this role.
  orchestrator: ['read', 'write'],
};

/** The scopes a person with `role` may be granted: an admin any of them, another role what it maps to, an unknown role none. */
export function scopesForRole(role: string): readonly string[] {
  return role === 'admin' ? SCOPES : (ROLE_SCOPES[role] ?? []);
}

/** The verified identity behind a request. Handlers receive this, never the raw token. */
export interface Principal {
  /** `sub` (or the legacy `user_id`). */
  readonly subject: string;
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Effective scopes: the token's scopes plus those its role grants. */
  readonly scopes: readonly string[];
  readonly role?: string;
  /** `jti`, when the token has one (legacy tokens may not). */
  readonly tokenId?: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly issuedAt?: number;
  /** RFC 8693 `act.sub`: the service acting on the subject's behalf. */
  readonly actor?: string;
  /**
   * The whole delegation chain when actors act for actors (RFC 8693 §4.1,
   * nested `act`): the current actor first, then each earlier one. Set only
   * when the token has an `act`.
   */
  readonly actors?: readonly string[];
  /** RFC 9068 `client_id`: the OAuth client the token was issued to, when the token names it. */
  readonly clientId?: string;
  /**
   * Whose data the call touches, when that is not the subject alone: a token
   * of a trusted outside issuer is owned by its issuer and subject together.
   * Read it through {@link ownerOf}.
   */
  readonly owner?: string;
  /** True only for calls let through by `optional` mode without a token. */
  readonly anonymous: boolean;
}

/** The data owner a principal acts as: the subject for this deployment's issuers, issuer and subject for an outside one. */
export function ownerOf(principal: Principal): string {
  return principal.owner ?? principal.subject;
}

/** The principal for token-less calls in `optional` or `disabled` mode. It holds no scope. */
export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  subject: 'anonymous',
  issuer: '',
  audience: [],
  scopes: [],
  expiresAt: Number.MAX_SAFE_INTEGER,
  anonymous: true,
});

/** True when the principal holds every scope listed (`admin` holds all). */
export function hasScopes(principal: Principal, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  if (principal.scopes.includes('admin')) return true;
  return required.every((scope) => principal.scopes.includes(scope));
}

/** The subset of `required` the principal lacks. */
export function missingScopes(principal: Principal, required: readonly string[]): string[] {
  if (principal.scopes.includes('admin')) return [];
  return required.filter((scope) => !principal.scopes.includes(scope));
}

/** Expands a role into scopes and merges them with explicit ones, de-duplicated. */
export function effectiveScopes(explicit: readonly string[], role: string | undefined): string[] {
  const fromRole = role ? (ROLE_SCOPES[role] ?? []) : [];
  return [...new Set([...explicit, ...fromRole])];
}

/** The principal every call runs as when auth is `disabled` (no secret, loopback only). */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({
  subject: 'local',
  issuer: 'local',
  audience: [],
  scopes: ['admin'],
  expiresAt: Number.MAX_SAFE_INTEGER,
  anonymous: true,
});
