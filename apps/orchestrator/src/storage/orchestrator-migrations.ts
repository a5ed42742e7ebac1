/**
 * The orchestrator's schema: registered OAuth clients, the revocations of what
 * it granted, the revocations it still owes resource servers, and local accounts. One list per engine,
 * applied in order by `migrate` (@crossauth/storage); never edit a released
 * migration, append one. Times are ms since the epoch.
 */
const CLIENTS = (json: string, bigint: string) => `
  CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    name TEXT,
    allowed_scopes ${json} NOT NULL,
    allowed_resources ${json} NOT NULL,
    -- HMAC-SHA256 of the secret under a key derived from the orchestrator's secret (key id beside it); never the secret.
    secret_hash TEXT,
    secret_key_id TEXT,
    created_at ${bigint} NOT NULL,
    secret_rotated_at ${bigint}
  );
`;

// 2: public keys (a JWK Set) of clients that authenticate with private_key_jwt (RFC 7523).
const CLIENT_KEYS = (json: string) => `ALTER TABLE oauth_clients ADD COLUMN jwks ${json};`;

// 3: revocations of granted tokens and removed clients (the table session-buddy has), kept until what they cover has expired.
const REVOCATIONS = (bigint: string) => `
  CREATE TABLE revocations (
    kind TEXT NOT NULL CHECK (kind IN ('token', 'subject')),
    value TEXT NOT NULL,
    issued_before ${bigint},
    expires_at ${bigint} NOT NULL,
    revoked_at ${bigint} NOT NULL,
    revoked_by TEXT NOT NULL,
    PRIMARY KEY (kind, value)
  );
`;

// 4: revocations owed to resource servers, written before the grant is deleted and kept until confirmed.
const OUTBOX = (json: string, bigint: string) => `
  CREATE TABLE revocation_outbox (
    id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    tool TEXT NOT NULL CHECK (tool IN ('revoke_subject', 'revoke_token')),
    args ${json} NOT NULL,
    subject TEXT NOT NULL,
    created_at ${bigint} NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at ${bigint} NOT NULL,
    last_error TEXT,
    delivered_at ${bigint}
  );
  CREATE INDEX revocation_outbox_subject ON revocation_outbox (subject);
  CREATE INDEX revocation_outbox_due ON revocation_outbox (next_attempt_at) WHERE delivered_at IS NULL;
`;

// 5: people who sign in with a password (local accounts); the username is their token's subject.
const USERS = (bigint: string) => `
  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    -- scrypt, as a PHC string naming its parameters; never the password.
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'developer', 'admin')),
    created_at ${bigint} NOT NULL,
    password_changed_at ${bigint} NOT NULL
  );
`;

// 6: the redirect URIs of clients people sign in through (authorization code); null for machine clients.
const REDIRECT_URIS = (json: string) => `ALTER TABLE oauth_clients ADD COLUMN redirect_uris ${json};`;

// 7: authorization codes, stored by hash, single use, bound to client, redirect URI, resource, user and PKCE challenge.
const AUTHORIZATION_CODES = (json: string, bigint: string) => `
  CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    username TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    resource TEXT NOT NULL,
    scopes ${json} NOT NULL,
    code_challenge TEXT NOT NULL,
    created_at ${bigint} NOT NULL,
    expires_at ${bigint} NOT NULL,
    redeemed_at ${bigint},
    -- the jtis minted from it: revoked if the code is presented again
    token_ids ${json}
  );
  CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
`;

// 8: what people granted. A grant is one approval and its refresh-token family; its tokens are kept by hash;
// consents are remembered per person, client and resource; a person's "sign out everywhere" ends older browser sign-ins.
const GRANTS = (json: string, bigint: string) => `
  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    client_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    scopes ${json} NOT NULL,
    created_at ${bigint} NOT NULL,
    last_used_at ${bigint} NOT NULL,
    expires_at ${bigint} NOT NULL,
    revoked_at ${bigint},
    revoked_reason TEXT
  );
  CREATE INDEX grants_username ON grants (username);
  CREATE INDEX grants_client ON grants (client_id);
  CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    parent_hash TEXT,
    created_at ${bigint} NOT NULL,
    expires_at ${bigint} NOT NULL,
    used_at ${bigint},
    superseded_at ${bigint},
    access_token_id TEXT NOT NULL
  );
  CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
  CREATE TABLE consents (
    username TEXT NOT NULL,
    client_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    scopes ${json} NOT NULL,
    granted_at ${bigint} NOT NULL,
    PRIMARY KEY (username, client_id, resource)
  );
  ALTER TABLE users ADD COLUMN signed_out_at ${bigint};
  ALTER TABLE authorization_codes ADD COLUMN grant_id TEXT;
`;

// 9: clients that registered themselves (RFC 7591), removed once unused for long enough.
const DYNAMIC_CLIENTS = (bool: string, bigint: string) => `
  ALTER TABLE oauth_clients ADD COLUMN dynamic ${bool} NOT NULL DEFAULT ${bool === 'BOOLEAN' ? 'false' : '0'};
  ALTER TABLE oauth_clients ADD COLUMN last_used_at ${bigint};
`;

// 10: a refresh supersedes its token's parent and siblings by parent_hash: indexed, or a long-lived grant's refreshes slow with its age.
const REFRESH_PARENT_INDEX = `CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_hash);`;

// 11: people who sign in through an upstream OpenID provider: which provider, and their subject there (unique per provider).
const EXTERNAL_IDENTITIES = `
  ALTER TABLE users ADD COLUMN identity_provider TEXT;
  ALTER TABLE users ADD COLUMN external_subject TEXT;
  CREATE UNIQUE INDEX users_external_identity ON users (identity_provider, external_subject) WHERE identity_provider IS NOT NULL;
`;

export const SQLITE_MIGRATIONS: readonly string[] = [
  CLIENTS('TEXT', 'INTEGER'),
  CLIENT_KEYS('TEXT'),
  REVOCATIONS('INTEGER'),
  OUTBOX('TEXT', 'INTEGER'),
  USERS('INTEGER'),
  REDIRECT_URIS('TEXT'),
  AUTHORIZATION_CODES('TEXT', 'INTEGER'),
  GRANTS('TEXT', 'INTEGER'),
  DYNAMIC_CLIENTS('INTEGER', 'INTEGER'),
  REFRESH_PARENT_INDEX,
  EXTERNAL_IDENTITIES,
];
export const POSTGRES_MIGRATIONS: readonly string[] = [
  CLIENTS('JSONB', 'BIGINT'),
  CLIENT_KEYS('JSONB'),
  REVOCATIONS('BIGINT'),
  OUTBOX('JSONB', 'BIGINT'),
  USERS('BIGINT'),
  REDIRECT_URIS('JSONB'),
  AUTHORIZATION_CODES('JSONB', 'BIGINT'),
  GRANTS('JSONB', 'BIGINT'),
  DYNAMIC_CLIENTS('BOOLEAN', 'BIGINT'),
  REFRESH_PARENT_INDEX,
  EXTERNAL_IDENTITIES,
];
