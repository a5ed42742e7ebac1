#!/usr/bin/env node
// npm run docker:secrets: the compose stack's secrets, as files in docker/secrets/
// (a directory only you can read; git and the image build ignore it). Existing
// files are kept, so running it again changes nothing. Prints no secret.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.env.CROSSAUTH_SECRETS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docker', 'secrets');
mkdirSync(dir, { recursive: true, mode: 0o700 });
const put = (name, make) => {
  const file = join(dir, name);
  // Readable inside the containers (they run as their own users); the directory keeps others out on this host.
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o644 });
  return readFileSync(file, 'utf8');
};
put('crossauth_secret', () => randomBytes(48).toString('base64url'));
const password = put('postgres_password', () => randomBytes(24).toString('base64url'));
put('session_buddy_database_url', () => `postgres://crossauth:${password}@postgres:5432/session_buddy`);
put('orchestrator_database_url', () => `postgres://crossauth:${password}@postgres:5432/orchestrator`);
process.stdout.write(`secrets in ${dir}: crossauth_secret, postgres_password, session_buddy_database_url, orchestrator_database_url\n`);
