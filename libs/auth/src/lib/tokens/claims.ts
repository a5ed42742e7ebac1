import { AuthError } from '../auth.errors';
import { effectiveScopes, type Principal } from '../principal';
import type { JwtClaims } from './jwt-codec';
import { shown, type LegacyIssuer } from './legacy-issuer';

/** What claim validation checks against. */
export interface ClaimPolicy {
  readonly allowedIssuers: readonly string[];
  /** Earlier names of allowed issuers, accepted until their window ends. */
  readonly legacyIssuers?: readonly LegacyIssuer[];
  /** Any one of these must appear in `aud`. */
  readonly audiences: readonly string[];
  readonly clockSkewSeconds: number;
  /** Accept tokens with no `aud` and no `type` (the Python predecessors' shape). */
  readonly acceptLegacyTokens: boolean;
  /** The setting that turns {@link acceptLegacyTokens} on, named when a legacy token is refused. */
  readonly legacyTokensSetting?: string;
  /** Tokens whose `exp` lies further ahead than this are refused (bounds how long a revocation must be kept). */
  readonly maxTokenLifetimeSeconds: number;
}

const SUBJECT = /^[\w.@:+-]{1,256}$/;
/** A client known by its Client ID Metadata Document is named by an https URL: printable ASCII, no spaces. */
const CLIENT_ID_URL = /^https:\/\/[\x21-\x7e]{1,2040}$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

function readScopes(claims: JwtClaims): string[] {
  const out: string[] = [];
  const add = (value: unknown, field: string): void => {
    if (value === undefined) return;
    const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))) {
      throw new AuthError('malformed', `${field} claim is not a list of scope tokens`);
    }
    out.push(...(list as string[]));
  };
  add(claims['scope'], 'scope');
  add(claims['scopes'], 'scopes');
  add(claims['scp'], 'scp');
  return out;
}

function numericDate(claims: JwtClaims, name: string, required: boolean): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuthError('malformed', required && value === undefined ? `${name} claim is required` : `${name} claim is not a NumericDate`);
  }
  return value;
}

/** Deepest delegation chain accepted or minted: a longer one is refused, not truncated. */
export const MAX_ACTORS = 5;

/** RFC 8693 `act`, nested for chains: the current actor first. Undefined when absent. */
function readActors(act: unknown): string[] | undefined {
  if (act === undefined) return undefined;
  const actors: string[] = [];
  let node: unknown = act;
  while (node !== undefined) {
    const sub = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)['sub'] : undefined;
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw new AuthError('malformed', 'act claim has no plain sub');
    if (actors.length === MAX_ACTORS) throw new AuthError('malformed', `act chain is longer than ${MAX_ACTORS}`);
    actors.push(sub);
    node = (node as Record<string, unknown>)['act'];
  }
  return actors;
}

/** Throws `wrong_issuer` unless `issuer` is a legacy name still inside its window. */
function admitLegacyIssuer(issuer: unknown, policy: ClaimPolicy, nowSeconds: number): asserts issuer is string {
  const legacy = typeof issuer === 'string' ? policy.legacyIssuers?.find((l) => l.name === issuer && policy.allowedIssuers.includes(l.issuer)) : undefined;
  if (!legacy) {
    const trusted = policy.allowedIssuers.map((i) => shown(i)).join(', ');
    throw new AuthError(
      'wrong_issuer',
      `issuer ${JSON.stringify(issuer)} is not in the allow-list`,
      [],
      `the token's iss is ${shown(issuer)}; this server trusts ${trusted}`,
    );
  }
  if (nowSeconds * 1000 >= legacy.until.getTime()) throw legacyIssuerEnded(legacy);
}

/** The refusal of a legacy issuer name after its window: names the end and what to use instead. */
export function legacyIssuerEnded(legacy: LegacyIssuer): AuthError {
  return new AuthError(
    'wrong_issuer',
    `legacy issuer name ${legacy.name} ended ${legacy.until.toISOString()}`,
    [],
    `iss ${shown(legacy.name)} was accepted until ${legacy.until.toISOString()}; tokens must now say iss ${shown(legacy.issuer)}`,
  );
}

/** `exp` (required), `nbf` and `iat` against the clock, with skew, and `exp` within the longest lifetime accepted. */
function validateTimes(
  claims: JwtClaims,
  policy: Pick<ClaimPolicy, 'clockSkewSeconds' | 'maxTokenLifetimeSeconds'>,
  nowSeconds: number,
): { exp: number; iat: number | undefined } {
  const skew = policy.clockSkewSeconds;
  const exp = numericDate(claims, 'exp', true) as number;
  const nbf = numericDate(claims, 'nbf', false);
  const iat = numericDate(claims, 'iat', false);
  if (nowSeconds >= exp + skew) throw new AuthError('expired', 'exp is in the past');
  if (exp - nowSeconds > policy.maxTokenLifetimeSeconds) throw new AuthError('malformed', 'exp is further ahead than the maximum token lifetime');
  if (nbf !== undefined && nowSeconds < nbf - skew) throw new AuthError('not_yet_valid', 'nbf is in the future');
  if (iat !== undefined && iat > nowSeconds + skew) throw new AuthError('not_yet_valid', 'iat is in the future');
  return { exp, iat };
}

/** What a token of an outside issuer is checked against: its trust file entry, and this server's clock rules. */
export interface OutsideClaimPolicy {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly scopeClaim: 'scope' | 'scp' | 'roles';
  readonly scopes: readonly string[];
  readonly clockSkewSeconds: number;
  readonly maxTokenLifetimeSeconds: number;
}

/** The data owner of an outside issuer's subject: issuer and subject together, so alice at two issuers is two owners. */
export function outsideOwner(issuer: string, subject: string): string {
  // '#' is in no plain subject and in no issuer URL (no fragments), so the pair reads back one way only.
  return `${issuer}#${subject}`;
}

/**
 * Validates an outside issuer's access token: times, `iss`, an `aud` that
 * names this server (required: a token for another resource is refused), a
 * plain `sub`, and scopes from the claim the trust file names, capped by it.
 * A `role` claim grants nothing here: only this deployment's issuers speak
 * for crossauth roles.
 */
export function validateOutsideClaims(claims: JwtClaims, policy: OutsideClaimPolicy, nowSeconds: number): Principal {
  const { exp, iat } = validateTimes(claims, policy, nowSeconds);
  if (claims['iss'] !== policy.issuer) throw new AuthError('wrong_issuer', `iss is not ${policy.issuer}`);
  const rawAud = claims['aud'];
  const audience = typeof rawAud === 'string' ? [rawAud] : Array.isArray(rawAud) ? rawAud.filter((a): a is string => typeof a === 'string') : [];
  if (!audience.some((a) => policy.audiences.includes(a))) {
    throw new AuthError(
      'wrong_audience',
      `aud ${JSON.stringify(rawAud ?? null)} names none of the audiences trusted for this issuer`,
      [],
      `the token's aud is ${shown(rawAud)}; for issuer ${shown(policy.issuer)} this server accepts ${policy.audiences.map((a) => shown(a)).join(' or ')}`,
    );
  }
  const subject = claims['sub'];
  if (typeof subject !== 'string' || !SUBJECT.test(subject)) throw new AuthError('malformed', 'sub is missing or not a plain identifier');
  const jti = claims['jti'];
  if (jti !== undefined && (typeof jti !== 'string' || jti.length === 0 || jti.length > 128))
    throw new AuthError('malformed', 'jti claim is not a short string');
  const clientId = claims['client_id'] ?? claims['azp'];
  const actors = readActors(claims['act']);
  const raw = claims[policy.scopeClaim];
  const list = raw === undefined ? [] : typeof raw === 'string' ? raw.split(' ').filter(Boolean) : raw;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw new AuthError('malformed', `${policy.scopeClaim} claim is not a list of scopes`);
  const scopes = [...new Set((list as string[]).filter((s) => policy.scopes.includes(s)))];
  return {
    subject,
    issuer: policy.issuer,
    audience,
    scopes,
    tokenId: jti,
    expiresAt: exp,
    issuedAt: iat,
    actor: actors?.[0],
    ...(actors ? { actors } : {}),
    ...(typeof clientId === 'string' && (SUBJECT.test(clientId) || CLIENT_ID_URL.test(clientId)) ? { clientId } : {}),
    owner: outsideOwner(policy.issuer, subject),
    anonymous: false,
  };
}

/**
 * Validates registered and crossauth claims (RFC 7519 §4.1, RFC 8725 §3.8–3.11)
 * and turns them into a {@link Principal}. Order matters for diagnosability:
 * time first, then who issued it, whom it is for, and what kind it is.
 */
export function validateClaims(claims: JwtClaims, policy: ClaimPolicy, nowSeconds: number, accessTokenTyp = false): Principal {
  const { exp, iat } = validateTimes(claims, policy, nowSeconds);

  const issuer = claims['iss'];
  if (typeof issuer !== 'string' || !policy.allowedIssuers.includes(issuer)) admitLegacyIssuer(issuer, policy, nowSeconds);

  const rawAud = claims['aud'];
  let audience: string[];
  if (rawAud === undefined) {
    if (!policy.acceptLegacyTokens) {
      const hint = policy.legacyTokensSetting ? `set ${policy.legacyTokensSetting}=true to accept them` : undefined;
      throw new AuthError('legacy_token', 'token has no aud claim and legacy tokens are off', [], hint);
    }
    audience = [];
  } else {
    audience = typeof rawAud === 'string' ? [rawAud] : Array.isArray(rawAud) ? rawAud.filter((a): a is string => typeof a === 'string') : [];
    if (!audience.some((a) => policy.audiences.includes(a))) {
      // Audiences are public (the resource's own URL); an integrator needs to see which one differed.
      throw new AuthError(
        'wrong_audience',
        `aud ${JSON.stringify(rawAud)} does not name this server`,
        [],
        `the token's aud is ${shown(rawAud)}; this server is ${policy.audiences.map((a) => shown(a)).join(' or ')}`,
      );
    }
  }

  // An RFC 9068 token says what it is in its header; crossauth's own also carry `type`.
  const type = claims['type'];
  if (type !== 'access' && !(type === undefined && (accessTokenTyp || policy.acceptLegacyTokens))) {
    throw new AuthError('wrong_type', `type ${JSON.stringify(type)} cannot open tools`);
  }

  const subject = claims['sub'] ?? claims['user_id'];
  if (typeof subject !== 'string' || !SUBJECT.test(subject)) {
    throw new AuthError('malformed', 'sub (or user_id) is missing or not a plain identifier');
  }
  const role = claims['role'];
  if (role !== undefined && typeof role !== 'string') throw new AuthError('malformed', 'role claim is not a string');
  const jti = claims['jti'];
  if (jti !== undefined && (typeof jti !== 'string' || jti.length === 0 || jti.length > 128)) {
    throw new AuthError('malformed', 'jti claim is not a short string');
  }
  const actors = readActors(claims['act']);
  const clientId = claims['client_id'];
  if (clientId !== undefined && (typeof clientId !== 'string' || !(SUBJECT.test(clientId) || CLIENT_ID_URL.test(clientId))))
    throw new AuthError('malformed', 'client_id claim is not a plain identifier or an https URL');

  return {
    subject,
    issuer,
    audience,
    scopes: effectiveScopes(readScopes(claims), role),
    role,
    tokenId: jti,
    expiresAt: exp,
    issuedAt: iat,
    actor: actors?.[0],
    ...(actors ? { actors } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    anonymous: false,
  };
}
