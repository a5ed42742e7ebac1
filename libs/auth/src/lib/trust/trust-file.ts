import { isIP } from 'node:net';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { SCOPES } from '../principal';

/** Algorithms an outside issuer may be trusted for: asymmetric only, so no shared secret can ever speak for it. */
export const OUTSIDE_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
/** Claims an outside issuer may carry its scopes in (Okta `scp`, Entra `scp` and `roles`, Keycloak and RFC 9068 `scope`). */
export const SCOPE_CLAIMS = ['scope', 'scp', 'roles'] as const;

/** One trusted outside issuer, as its trust file entry says. */
export interface TrustedIssuerSettings {
  /** Exactly the `iss` its tokens carry. */
  readonly issuer: string;
  /** Where its keys are: a JWKS URL, or its metadata (`oidc`: OpenID discovery; `oauth`: RFC 8414) naming one. */
  readonly keys: { readonly jwksUri: string } | { readonly discovery: 'oidc' | 'oauth' };
  /** A token must name one of these in `aud`. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly (typeof OUTSIDE_ALGORITHMS)[number][];
  readonly scopeClaim: (typeof SCOPE_CLAIMS)[number];
  /** The most a token of this issuer may be granted: its scopes outside this list are dropped. */
  readonly scopes: readonly string[];
  readonly refreshSeconds: number;
  readonly minRefetchSeconds: number;
}

/** Why a trust file was refused: the file, where in it when known, and the rule. Never a value from it. */
export class TrustFileError extends Error {
  override readonly name = 'TrustFileError';
}

/** Whether `url` may be fetched for keys: HTTPS, or HTTP to a loopback host when the development switch allows it. */
export function trustUrlProblem(url: string, allowLoopbackHttp: boolean, loopbackHttpSetting?: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (parsed.hash) return 'must not have a fragment';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol !== 'http:') return 'must be https';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (!loopback) return 'must be https';
  return allowLoopbackHttp
    ? undefined
    : `must be https (http to loopback needs ${loopbackHttpSetting ? `${loopbackHttpSetting}=true` : 'the development switch'})`;
}

const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope token');
const entry = z
  .object({
    issuer: z.string().min(1).max(2048),
    jwks_uri: z.string().optional(),
    discovery: z.enum(['oidc', 'oauth']).optional(),
    audiences: z.array(z.string().min(1).max(2048)).min(1),
    algorithms: z.array(z.enum(OUTSIDE_ALGORITHMS)).min(1).default(['RS256']),
    scope_claim: z.enum(SCOPE_CLAIMS).default('scope'),
    scopes: z.array(scopeToken).min(1),
    refresh_seconds: z.number().int().min(60).max(86_400).default(300),
    min_refetch_seconds: z.number().int().min(1).max(3600).default(10),
  })
  .strict()
  .refine((e) => !(e.jwks_uri && e.discovery), { message: 'give jwks_uri or discovery, not both' });
const file = z.object({ issuers: z.array(entry).max(100) }).strict();

/**
 * Parses and checks a trust file (YAML, of which JSON is a subset). Every
 * problem is reported with its place in the file and the rule it broke; a
 * file with any problem is refused whole, so a half-read trust never runs.
 */
export function parseTrustFile(
  text: string,
  fileName: string,
  options: { readonly allowLoopbackHttp: boolean; readonly loopbackHttpSetting?: string; readonly ownIssuers?: readonly string[] },
): TrustedIssuerSettings[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = syntax.linePos?.[0];
    throw new TrustFileError(`${fileName}${at ? `:${at.line}:${at.col}` : ''}: not valid YAML or JSON (${syntax.code.toLowerCase()})`);
  }
  const where = (path: readonly PropertyKey[]): string => {
    const node = doc.getIn(path as unknown[], true) as { range?: [number, number, number] } | undefined;
    const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
    return `${fileName}${pos ? `:${pos.line}:${pos.col}` : ''} (${path.map(String).join('.') || 'top level'})`;
  };
  const parsed = file.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw new TrustFileError(`${where(issue.path)}: ${issue.message}`);
  }
  const seen = new Set<string>();
  return parsed.data.issuers.map((e, i) => {
    const fail = (field: string, rule: string): never => {
      throw new TrustFileError(`${where(['issuers', i, field])}: ${rule}`);
    };
    if (seen.has(e.issuer)) fail('issuer', `issuer ${e.issuer} is listed twice`);
    seen.add(e.issuer);
    if (options.ownIssuers?.includes(e.issuer)) fail('issuer', `issuer ${e.issuer} is this deployment's own; it cannot also be an outside issuer`);
    const issuerProblem = trustUrlProblem(e.issuer, options.allowLoopbackHttp, options.loopbackHttpSetting);
    // Kubernetes and SPIFFE issuers need not be URLs when their keys are given directly.
    if (issuerProblem && !e.jwks_uri) fail('issuer', `an issuer whose keys are found by discovery ${issuerProblem}`);
    if (e.jwks_uri) {
      const problem = trustUrlProblem(e.jwks_uri, options.allowLoopbackHttp, options.loopbackHttpSetting);
      if (problem) fail('jwks_uri', `jwks_uri ${problem}`);
    }
    const unknown = e.scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length) fail('scopes', `scopes must be among ${SCOPES.join(', ')} (not ${unknown.join(', ')})`);
    return {
      issuer: e.issuer,
      keys: e.jwks_uri ? { jwksUri: e.jwks_uri } : { discovery: e.discovery ?? 'oidc' },
      audiences: e.audiences,
      algorithms: [...new Set(e.algorithms)],
      scopeClaim: e.scope_claim,
      scopes: [...new Set(e.scopes)],
      refreshSeconds: e.refresh_seconds,
      minRefetchSeconds: e.min_refetch_seconds,
    };
  });
}
