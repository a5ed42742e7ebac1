import { readFileSync } from 'node:fs';
import type { ZodType } from 'zod';
import { AuthConfigError } from '../auth.errors';

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
  return raw ? raw.split(/[,\n]/).map((s) => s.trim()).filter(Boolean) : [];
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
