/**
 * An earlier name of an issuer, still accepted in tokens for a transition
 * window: crossauth's orchestrator once wrote `iss: orchestrator` where RFC
 * 8414 and RFC 9068 want its issuer URL. Tokens naming `name` count as
 * `issuer`'s (for the allow-list, the issuer a JWKS key is bound to, and the
 * issuers whose callers must sign) until `until`, and are refused after it
 * with a reason that says so.
 */
export interface LegacyIssuer {
  readonly name: string;
  readonly issuer: string;
  readonly until: Date;
}

/** The issuer a token's `iss` stands for: itself, or what its legacy name now is. */
export function canonicalIssuer(iss: string, legacy: readonly LegacyIssuer[]): string {
  for (const entry of legacy) if (entry.name === iss) return entry.issuer;
  return iss;
}

/**
 * Shows a caller-supplied value inside a client-facing message: printable
 * ASCII only (RFC 6750 `error_description`), no quotes or backslashes, short.
 */
export function shown(value: unknown, max = 100): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const clean = text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
  return `'${clean.length > max ? `${clean.slice(0, max)}...` : clean}'`;
}
