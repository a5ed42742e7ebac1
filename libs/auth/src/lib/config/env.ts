import { readFileSync } from 'node:fs';
import { z, type ZodType } from 'zod';
import { assertAcceptableSecret } from '../keys/secret-policy';
import { AuthConfigError } from '../auth.errors';
import { canonicalIssuer, type LegacyIssuer } from '../tokens/legacy-issuer';

/** An environment as a plain record; apps pass `process.env`, tests pass literals. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads a secret from `NAME` or from the file named by `NAME_FILE` (container
 * secrets), never both. A trailing newline in the file is dropped. Errors name
 * the variables, never the content.
 */
export function readSecretVariable(env: Environment, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file) {
    throw new AuthConfigError(`set either ${name} or ${name}_FILE, not both`);
  }
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new AuthConfigError(`${name}_FILE points to a file that cannot be read`);
    }
  }
  return direct === '' ? undefined : direct;
}

/** A comma-separated list of secrets (e.g. `…_PREVIOUS_SECRETS`), or a file of them, one per line. */
export function readSecretList(env: Environment, name: string): string[] {
  const raw = readSecretVariable(env, name);
  return raw
    ? raw
        .split(/[,\n]/)
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/**
 * Parses an environment with a zod schema whose keys are variable names;
 * empty values count as unset.
 * The error lists every bad variable and its rule, never a value.
 */
export function parseEnvironment<T>(schema: ZodType<T>, env: Environment): T {
  // An empty value (`NAME=` in a copied .env.example) means "use the default".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new AuthConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
}

/** A boolean variable: true/false, 1/0, yes/no, on/off. */
export const envBoolean = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** A comma-separated list variable, trimmed, empty items dropped. */
export const envList = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/**
 * Reads `name` (or `name_FILE`) and `previousName` (comma list or file) and
 * checks every secret against the policy, naming the variable on failure.
 */
export function readSecretSettings(env: Environment, name: string, previousName: string): { secret: string | undefined; previousSecrets: string[] } {
  const secret = readSecretVariable(env, name);
  if (secret !== undefined) assertAcceptableSecret(name, secret);
  const previousSecrets = readSecretList(env, previousName);
  previousSecrets.forEach((s, i) => assertAcceptableSecret(`${previousName}[${i}]`, s));
  return { secret, previousSecrets };
}

/**
 * A connection URL that may carry a password (`postgres://user:pass@host/db`),
 * from `NAME` or `NAME_FILE`, checked to parse and to use one of `protocols`.
 * Errors name the variable and the rule, never the URL.
 */
export function readConnectionUrl(env: Environment, name: string, protocols: readonly string[]): string | undefined {
  const raw = readSecretVariable(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AuthConfigError(`invalid configuration:\n  - ${name}: is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new AuthConfigError(`invalid configuration:\n  - ${name}: must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

/**
 * An issuer identifier (RFC 8414 §2, RFC 9068 §4): an http(s) URL with no
 * query, no fragment and no trailing slash, compared byte for byte, so
 * `http://localhost:8679` and `http://127.0.0.1:8679` are different issuers.
 */
export const envIssuerUrl = z.string().refine((value) => {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return (protocol === 'https:' || protocol === 'http:') && !/[?#]/.test(value) && !value.endsWith('/');
}, 'must be an issuer URL: http(s), with no query, fragment or trailing slash (RFC 8414)');

/** Until this instant tokens may still name an issuer by its legacy name, unless configured otherwise. */
export const DEFAULT_LEGACY_ISSUERS_UNTIL = new Date('2027-06-30T00:00:00Z');

/** An instant as ISO 8601 with a time and an offset (`2027-06-30T00:00:00Z`). */
export const envInstant = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

/**
 * The earlier names of `issuer` accepted until `until` (`none` turns the
 * window off). A legacy name listed among the allowed or signing issuers means
 * the issuer it now names; {@link issuerNames} rewrites such lists.
 */
export function legacyIssuers(names: readonly string[], until: Date | undefined, issuer: string): LegacyIssuer[] {
  until ??= DEFAULT_LEGACY_ISSUERS_UNTIL;
  return names.filter((name) => name !== 'none' && name !== issuer).map((name) => ({ name, issuer, until }));
}

/** A list of issuers with legacy names replaced by the issuer they stand for, each once. */
export function issuerNames(names: readonly string[], legacy: readonly LegacyIssuer[]): string[] {
  return [...new Set(names.map((name) => canonicalIssuer(name, legacy)))];
}
