import { AuthConfigError } from '../auth.errors';

/** The minimum secret length. HS256 keys shorter than the hash output weaken HMAC (RFC 7518 §3.2). */
export const MIN_SECRET_LENGTH = 32;

// Normalised (lower-case, letters and digits only) fragments that mark a value
// copied from documentation rather than generated: a production service once
// ran on `development-enhanced-jwt-secret`.
const PLACEHOLDER_FRAGMENTS = [
  'changeme',
  'yoursecret',
  'mysecret',
  'supersecret',
  'secretkey',
  'sharedsecret',
  'placeholder',
  'replaceme',
  'example',
  'password',
];

/**
 * Checks a secret against the start-up policy and throws an {@link AuthConfigError}
 * naming `variableName` and the rule broken. The message never includes the value
 * or its length, so it is safe to print.
 */
export function assertAcceptableSecret(variableName: string, value: string): void {
  const fail = (rule: string): never => {
    throw new AuthConfigError(`${variableName} is not an acceptable secret: ${rule}`);
  };
  if (value.trim() !== value) fail('it has leading or trailing whitespace');
  if (value.length < MIN_SECRET_LENGTH) fail(`it must be at least ${MIN_SECRET_LENGTH} characters`);
  const normalised = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (value.toLowerCase().startsWith('development-') || value.toLowerCase().startsWith('dev-')) {
    fail('it looks like a development placeholder (starts with "development-")');
  }
  if (normalised.startsWith('secret') || PLACEHOLDER_FRAGMENTS.some((f) => normalised.includes(f))) {
    fail('it looks like a placeholder copied from documentation; generate one with `crossauth secret`');
  }
  if (new Set(value).size < 8) fail('it repeats too few distinct characters');
}
