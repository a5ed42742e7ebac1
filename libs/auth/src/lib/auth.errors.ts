/**
 * Why an authentication or authorization decision failed. These codes are the
 * wire contract (see docs/auth-protocol.md): they appear in logs, in
 * `error_description`, and in tool errors. Never add a code that reveals a
 * secret-dependent detail (such as which byte of a signature differed).
 */
export const AUTH_FAILURE_REASONS = [
  'missing',
  'malformed',
  'expired',
  'not_yet_valid',
  'bad_signature',
  'unknown_key',
  'wrong_issuer',
  'wrong_audience',
  'legacy_token',
  'wrong_type',
  'revoked',
  'insufficient_scope',
  'too_large',
] as const;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

const DESCRIPTIONS: Record<AuthFailureReason, string> = {
  missing: 'Token required',
  malformed: 'Token is malformed',
  expired: 'Token has expired',
  not_yet_valid: 'Token is not valid yet',
  bad_signature: 'Token signature is invalid',
  unknown_key: 'Token was signed with a key this server does not have',
  wrong_issuer: 'Token issuer is not trusted by this server',
  wrong_audience: 'Token was issued for another audience',
  legacy_token: 'Token has no audience claim (a legacy token), and this server does not accept legacy tokens',
  wrong_type: 'Token is not an access token',
  revoked: 'Token has been revoked',
  insufficient_scope: 'Token lacks a required scope',
  too_large: 'Token is too large',
};

/**
 * A typed, client-safe authentication failure. `message` is safe to return to
 * the caller; `detail` is for logs only and never contains token material.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';

  constructor(
    readonly reason: AuthFailureReason,
    readonly detail?: string,
    /** Scopes that would have been needed, for `insufficient_scope` challenges. */
    readonly requiredScopes: readonly string[] = [],
    /** A client-safe next step appended to the message, such as the setting that would change the outcome. */
    hint?: string,
  ) {
    super(hint ? `${describeFailure(reason)}; ${hint}` : describeFailure(reason));
  }

  /** `401` for authentication failures, `403` when the caller is known but lacks a scope. */
  get httpStatus(): 401 | 403 {
    return this.reason === 'insufficient_scope' ? 403 : 401;
  }

  /**
   * The message the Python predecessor returned from tool calls. Clients match
   * on `❌ Authentication failed`, `expired` and `invalid`, so those words stay.
   */
  get toolMessage(): string {
    switch (this.reason) {
      case 'missing':
        return '❌ Authentication failed: Token required';
      case 'expired':
        return '❌ Authentication failed: Token has expired';
      case 'insufficient_scope':
        return `❌ Authorization failed: missing scope ${this.requiredScopes.join(' ')} (insufficient_scope)`;
      default:
        return `❌ Authentication failed: Invalid token (${this.reason}: ${this.message})`;
    }
  }
}

/** The client-safe sentence for a failure reason. */
export function describeFailure(reason: AuthFailureReason): string {
  return DESCRIPTIONS[reason];
}

/** Raised at start-up when configuration is unusable. Names the setting, never its value. */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
}
