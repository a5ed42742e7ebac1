import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { JwtService } from '@nestjs/jwt';
import {
  AuthError,
  DEFAULT_LEGACY_ISSUERS_UNTIL,
  JWT_BEARER_CLIENT_ASSERTION,
  TokenIssuerService,
  TokenVerifierService,
  assertAcceptableSecret,
  createClientAssertion,
  deriveKeyId,
  privateSigningKeyFromText,
  readSecretList,
  readSecretVariable,
  resolveAuthOptions,
  signRequest,
  type Environment,
  type KeyRing,
} from '@crossauth/auth';
import { grantsCommand } from './grants.command';
import { userCommand, type AdminCall } from './user.command';

/** Where command output goes; injectable for tests. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `crossauth <command> [options]

Commands:
  secret                         print a new random secret (48 bytes, base64url)
  fingerprint [--secret-env NAME]
                                 print each configured service's key ids (session-buddy,
                                 orchestrator, this CLI) and whether session-buddy accepts
                                 the orchestrator's signing key; exits 3 when it does not
  mint --sub S --scope "read write" [--aud session-buddy] [--iss ISSUER] [--ttl 300] [--role R] [--type access|refresh]
                                 mint a token with the configured secret; it lasts --ttl
                                 seconds (default 300, at most 86400); --iss defaults to
                                 CROSSAUTH_ISSUER, else the orchestrator's issuer as its settings
                                 make it (ORCHESTRATOR_ISSUER, _PUBLIC_URL, session-buddy's
                                 SESSION_BUDDY_AUTHORIZATION_SERVER, ORCHESTRATOR_HOST/_PORT),
                                 else http://127.0.0.1:8679
  inspect <token> [--aud A] [--iss I,J] [--legacy]
                                 decode a token and say whether it verifies, and why not
  revoke-token <jti|token> [--url http://127.0.0.1:8678/mcp]
  revoke-subject <sub> [--before ISO-8601] [--url …]
                                 revoke through session-buddy's admin tools (effective at once,
                                 persisted); authenticates with a 60 s admin token it mints
  client add <id> --scope "read write" --resource <MCP server URL> [--resource …] [--name N] [--jwks-file keys.json]
             [--public] [--redirect-uri URI …] [--url http://127.0.0.1:8679/mcp]
                                 --public: an MCP client on a person's machine (no secret);
                                 redirect URIs: https, loopback http (any port) or a private-use scheme
  client list | client rotate-secret <id> | client remove <id>   [--url …]
  user add <username> [--role viewer|developer|admin] | user set-password <username>
  user set-role <username> --role R | user list | user remove <username>   [--url http://127.0.0.1:8679/mcp]
  user sign-out-everywhere <username>
                                 people who sign in with a password (local accounts); the password
                                 comes from CROSSAUTH_USER_PASSWORD (or _FILE), never the command line;
                                 --role defaults to developer (read write); remove and
                                 sign-out-everywhere end the person's grants and revoke their live
                                 tokens here and at session-buddy
  grants list [--user U | --client-id C] | grants revoke <id>   [--url …]
                                 what people approved their MCP clients for (one grant per sign-in;
                                 its refresh token renews access); revoke ends one
  keys list | keys rotate [--alg EdDSA|ES256]   [--url http://127.0.0.1:8679/mcp]
                                 the orchestrator's signing keys (ORCHESTRATOR_SIGNING_ALG=EdDSA|ES256):
                                 rotate publishes the next key now; it signs after
                                 ORCHESTRATOR_SIGNING_KEY_PUBLISH_SECONDS
  call <mcp url> <tool> ['{"json": "args"}'] [--client-id ID --issuer AS-URL [--client-key-file key.pem]] [--sub S --scope "read"]
                                 call a tool as a script would: with --client-id, by OAuth discovery and
                                 client credentials (secret from CROSSAUTH_CLIENT_SECRET, sent only to
                                 the authorization server --issuer names; or, with --client-key-file,
                                 private_key_jwt signed with that Ed25519/P-256 key); otherwise with
                                 a 60 s token minted with the configured secret for that URL; prints the
                                 result, exits 1 when the tool answers an error
                                 OAuth clients of the orchestrator's token endpoint (client_credentials);
                                 a secret is printed once, when it is made

The secret is read from CROSSAUTH_SECRET, ORCHESTRATOR_AUTH_SECRET or
SESSION_BUDDY_SECRET (or their _FILE variants), in that order; --secret-env NAME
picks another variable. Previous secrets (for inspect) come from NAME's
*_PREVIOUS_SECRETS sibling when set.`;

const SECRET_VARIABLES = ['CROSSAUTH_SECRET', 'ORCHESTRATOR_AUTH_SECRET', 'SESSION_BUDDY_SECRET'];

/** Whose keys `fingerprint` compares: each service's current and previous secrets, and the CLI's own. */
const KEY_OWNERS = [
  { owner: 'session-buddy', current: 'SESSION_BUDDY_SECRET', previous: 'SESSION_BUDDY_PREVIOUS_SECRETS' },
  { owner: 'orchestrator', current: 'ORCHESTRATOR_AUTH_SECRET', previous: 'ORCHESTRATOR_PREVIOUS_SECRETS' },
  { owner: 'crossauth CLI', current: 'CROSSAUTH_SECRET', previous: undefined },
] as const;

/** Exit code of `fingerprint` when session-buddy would refuse the orchestrator's tokens. */
export const KEYS_DIFFER_EXIT = 3;

interface ConfiguredKeys {
  readonly owner: string;
  readonly variable: string;
  readonly current: string;
  readonly previous: string[];
}

function configuredKeys(env: Environment): ConfiguredKeys[] {
  const out: ConfiguredKeys[] = [];
  for (const { owner, current, previous } of KEY_OWNERS) {
    const secret = readSecretVariable(env, current);
    if (!secret) continue;
    assertAcceptableSecret(current, secret);
    out.push({ owner, variable: current, current: deriveKeyId(secret), previous: previous ? readSecretList(env, previous).map(deriveKeyId) : [] });
  }
  return out;
}

/** Prints every configured key id and whether session-buddy accepts what the orchestrator signs with. */
function fingerprint(env: Environment, io: Io): number {
  const keys = configuredKeys(env);
  if (keys.length === 0) throw new Error(`no secret configured: set ${KEY_OWNERS.map((k) => k.current).join(' or ')} (or the _FILE variant)`);
  const width = Math.max(...keys.map((k) => k.owner.length));
  for (const k of keys) {
    io.out(`${k.owner.padEnd(width)}  ${k.current}  current   (${k.variable})`);
    for (const p of k.previous) io.out(`${k.owner.padEnd(width)}  ${p}  previous`);
  }
  const sb = keys.find((k) => k.owner === 'session-buddy');
  const orch = keys.find((k) => k.owner === 'orchestrator');
  if (!sb || !orch) {
    const missing = sb ? 'orchestrator' : 'session-buddy';
    io.out(
      `only ${sb ? 'session-buddy' : orch ? 'orchestrator' : 'the CLI'} is configured here: run fingerprint where ${missing} runs and compare the key ids`,
    );
    return 0;
  }
  if ([sb.current, ...sb.previous].includes(orch.current)) {
    io.out(`match: session-buddy accepts the orchestrator's signing key ${orch.current}`);
    return 0;
  }
  io.out(
    `MISMATCH: session-buddy does not accept the orchestrator's signing key ${orch.current}; its tokens will be refused as unknown_key. Give both services the same secret.`,
  );
  return KEYS_DIFFER_EXIT;
}

function secretFrom(env: Environment, preferred?: string): { name: string; secret: string; previous: string[] } {
  for (const name of preferred ? [preferred] : SECRET_VARIABLES) {
    const secret = readSecretVariable(env, name);
    if (secret) {
      assertAcceptableSecret(name, secret);
      const previousName = name.replace(/(_AUTH)?_SECRET$/, '_PREVIOUS_SECRETS');
      return { name, secret, previous: previousName === name ? [] : readSecretList(env, previousName) };
    }
  }
  throw new Error(`no secret configured: set ${preferred ?? SECRET_VARIABLES.join(' or ')} (or the _FILE variant)`);
}

const decodeSegment = (segment: string | undefined): unknown => {
  try {
    return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
  } catch {
    return '(not JSON)';
  }
};

/** The orchestrator's default issuer identifier (its default public URL). */
const DEFAULT_ISSUER = 'http://127.0.0.1:8679';

/** The issuer the environment names: CROSSAUTH_ISSUER, else what the orchestrator's own settings make it. */
function configuredIssuer(env: Environment): string | undefined {
  const named = env['CROSSAUTH_ISSUER'] || env['ORCHESTRATOR_ISSUER'] || env['ORCHESTRATOR_PUBLIC_URL'] || env['SESSION_BUDDY_AUTHORIZATION_SERVER'];
  if (named) return named.replace(/\/$/, '');
  const port = env['ORCHESTRATOR_PORT'];
  return port ? `http://${env['ORCHESTRATOR_HOST'] || '127.0.0.1'}:${port}` : undefined;
}

/** What a token minted by the CLI says. */
interface MintedCaller {
  readonly url: URL;
  readonly subject: string;
  readonly audience: string;
  readonly scopes: readonly string[];
}

/**
 * Calls one tool with a 60 s token minted with the configured secret, signing
 * each request (RFC 9421), so servers that require signed requests from our
 * issuer accept it too.
 */
async function callWithMintedToken(
  env: Environment,
  values: { iss?: string; 'secret-env'?: string },
  caller: MintedCaller,
  tool: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const { secret } = secretFrom(env, values['secret-env']);
  // The orchestrator trusts its own issuer, which is its URL unless configured otherwise.
  const issuer = values.iss ?? configuredIssuer(env) ?? (caller.audience === 'orchestrator' ? caller.url.origin : DEFAULT_ISSUER);
  const options = resolveAuthOptions({ secret, issuer, allowedIssuers: [issuer], audiences: ['unused'] });
  const keys = options.keyRing as KeyRing;
  const token = new TokenIssuerService(options, new JwtService({})).mint({
    subject: caller.subject,
    audience: caller.audience,
    scopes: caller.scopes,
    ttlSeconds: 60,
  }).token;
  const signedFetch = (target: string | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    const u = new URL(target);
    const signed = signRequest(
      { method: init?.method ?? 'GET', authority: u.host, path: u.pathname, body: typeof init?.body === 'string' ? init.body : '' },
      { kid: keys.current.kid, key: keys.current.requestSigningKey },
    );
    for (const [name, value] of Object.entries(signed)) headers.set(name, value);
    return fetch(target, { ...init, headers });
  };
  const { Client, StreamableHTTPClientTransport } = await mcpClient();
  const watch = watchScopeRefusals(signedFetch);
  const held = caller.scopes.join(' ') || 'none';
  return withClient(
    new Client({ name: 'crossauth-cli', version: '0.1.0' }),
    new StreamableHTTPClientTransport(caller.url, { fetch: watch.fetch }),
    tool,
    args,
    watch,
    async (needed) => `the token held '${held}' (mint it with --scope ${needed})`,
  );
}

type FetchLike = (target: string | URL, init?: RequestInit) => Promise<Response>;

/** Notes the scope an RFC 6750 `insufficient_scope` challenge names, so a refusal can say what was missing. */
function watchScopeRefusals(inner: FetchLike = (target, init) => fetch(target, init)): { fetch: FetchLike; needed: () => string | undefined } {
  let needed: string | undefined;
  return {
    fetch: async (target, init) => {
      const response = await inner(target, init);
      const challenge = response.status === 403 ? (response.headers.get('www-authenticate') ?? '') : '';
      if (/error="insufficient_scope"/.test(challenge)) needed = /scope="([^"]*)"/.exec(challenge)?.[1];
      return response;
    },
    needed: () => needed,
  };
}

// Loaded only by the commands that call a server: the client is a third of the CLI's start-up time.
async function mcpClient() {
  const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  return { Client, StreamableHTTPClientTransport };
}

async function withClient(
  client: InstanceType<Awaited<ReturnType<typeof mcpClient>>['Client']>,
  transport: InstanceType<Awaited<ReturnType<typeof mcpClient>>['StreamableHTTPClientTransport']>,
  tool: string,
  args: Record<string, unknown>,
  watch: { needed: () => string | undefined },
  held: (needed: string) => Promise<string>,
): Promise<CallToolResult> {
  await client.connect(transport);
  try {
    return (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
  } catch (error) {
    // The SDK's own words for this are "403 after trying upscoping"; say what was needed and what was held.
    const needed = watch.needed();
    if (needed !== undefined) throw new Error(`${tool} needs scope '${needed}'; ${await held(needed)}`);
    throw error;
  } finally {
    await client.close();
  }
}

/** Calls one session-buddy (or orchestrator) admin tool as `crossauth-cli`. */
function callAdminTool(
  env: Environment,
  values: { url?: string; iss?: string; aud?: string; 'secret-env'?: string },
  tool: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const caller = {
    url: new URL(values.url ?? 'http://127.0.0.1:8678/mcp'),
    subject: 'crossauth-cli',
    audience: values.aud ?? 'session-buddy',
    scopes: ['admin'],
  };
  return callWithMintedToken(env, values, caller, tool, args);
}

const ORCHESTRATOR_MCP = 'http://127.0.0.1:8679/mcp';

/** A client's private key (PKCS#8 PEM or a private JWK), Ed25519 or P-256, for private_key_jwt. */
function readClientKey(path: string) {
  try {
    return privateSigningKeyFromText(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`--client-key-file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `crossauth call <url> <tool> [json]`: a real MCP client for scripts and operators. */
async function callCommand(
  env: Environment,
  values: { sub?: string; scope?: string; iss?: string; 'secret-env'?: string; 'client-id'?: string; issuer?: string; 'client-key-file'?: string },
  [target, tool, json]: string[],
  io: Io,
): Promise<number> {
  if (!target || !tool) throw new Error('call needs an MCP server URL and a tool name');
  const url = new URL(target);
  let args: unknown = {};
  if (json !== undefined) {
    try {
      args = JSON.parse(json);
    } catch {
      throw new Error('the arguments must be a JSON object');
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new Error('the arguments must be a JSON object');
  const clientId = values['client-id'];
  let result: CallToolResult;
  if (clientId) {
    // Without it the MCP server would choose where the client's credentials are sent.
    if (!values.issuer) throw new Error('--client-id needs --issuer <authorization server URL>: credentials are sent only there');
    const issuer = values.issuer;
    const [{ Client, StreamableHTTPClientTransport }, { ClientCredentialsProvider, PrivateKeyJwtProvider }] = await Promise.all([
      mcpClient(),
      import('@modelcontextprotocol/sdk/client/auth-extensions.js'),
    ]);
    let authProvider: InstanceType<typeof ClientCredentialsProvider> | InstanceType<typeof PrivateKeyJwtProvider>;
    const keyFile = values['client-key-file'];
    if (keyFile) {
      const key = readClientKey(keyFile);
      authProvider = new PrivateKeyJwtProvider({ clientId, privateKey: 'unused', algorithm: key.alg, expectedIssuer: issuer });
      // The SDK signs with jose, which is ESM-only and cannot load in this CommonJS CLI; node:crypto signs the same assertion.
      authProvider.addClientAuthentication = async (_headers, params, tokenUrl, metadata) => {
        params.set('client_assertion', createClientAssertion(clientId, String(metadata?.issuer ?? tokenUrl), key));
        params.set('client_assertion_type', JWT_BEARER_CLIENT_ASSERTION);
      };
    } else {
      // From the environment, never the command line (shell history, process lists).
      const clientSecret = readSecretVariable(env, 'CROSSAUTH_CLIENT_SECRET');
      if (!clientSecret) throw new Error('--client-id needs CROSSAUTH_CLIENT_SECRET (or CROSSAUTH_CLIENT_SECRET_FILE), or --client-key-file');
      authProvider = new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: issuer });
    }
    const watch = watchScopeRefusals();
    const transport = new StreamableHTTPClientTransport(url, { authProvider, fetch: watch.fetch });
    const held = async () => `client '${clientId}' holds '${(await authProvider.tokens())?.scope || 'none'}', the scopes its registration allows`;
    result = await withClient(new Client({ name: 'crossauth-cli', version: '0.1.0' }), transport, tool, args as Record<string, unknown>, watch, held);
  } else {
    // The canonical MCP URL is an audience every crossauth server accepts for itself.
    const scopes = (values.scope ?? 'read').split(/[ ,]+/).filter(Boolean);
    result = await callWithMintedToken(
      env,
      values,
      { url, subject: values.sub ?? 'crossauth-cli', audience: url.href, scopes },
      tool,
      args as Record<string, unknown>,
    );
  }
  const out = result.structuredContent ?? (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n');
  io.out(typeof out === 'string' ? out : JSON.stringify(out, null, 2));
  return result.isError ? 1 : 0;
}

/** The orchestrator's admin tools as a function: a tool's JSON answer, or an Error with its message. */
function orchestratorAdmin(env: Environment, values: { url?: string; iss?: string; aud?: string; 'secret-env'?: string }): AdminCall {
  return async (tool, args) => {
    const result = await callAdminTool(env, { ...values, url: values.url ?? ORCHESTRATOR_MCP, aud: values.aud ?? 'orchestrator' }, tool, args);
    const text = (result.content as Array<{ text?: string }>)[0]?.text ?? '';
    if (result.isError) throw new Error(text);
    return JSON.parse(text) as Record<string, unknown>;
  };
}

/** `crossauth client add|list|rotate-secret|remove`, through the orchestrator's admin tools. */
async function clientCommand(
  env: Environment,
  values: {
    url?: string;
    iss?: string;
    aud?: string;
    'secret-env'?: string;
    scope?: string;
    resource?: string[];
    name?: string;
    'jwks-file'?: string;
    public?: boolean;
    'redirect-uri'?: string[];
  },
  [action, id]: string[],
  io: Io,
): Promise<number> {
  const call = orchestratorAdmin(env, values);
  switch (action) {
    case 'add': {
      if (!id) throw new Error('client add needs an id');
      const scopes = (values.scope ?? '').split(/[ ,]+/).filter(Boolean);
      const jwksFile = values['jwks-file'];
      const jwks = jwksFile ? (JSON.parse(readFileSync(jwksFile, 'utf8')) as unknown) : undefined;
      const added = await call('oauth_client_add', {
        id,
        scopes,
        resources: values.resource ?? [],
        ...(values.name ? { name: values.name } : {}),
        ...(jwks ? { jwks } : {}),
        ...(values.public ? { public: true } : {}),
        ...(values['redirect-uri'] ? { redirect_uris: values['redirect-uri'] } : {}),
      });
      io.out(`client_id:     ${String(added['client_id'])}`);
      if (added['client_secret']) io.out(`client_secret: ${String(added['client_secret'])}`);
      else if (added['auth_method'] === 'none') io.out('auth_method:   none (a public client: no secret, PKCE proves it)');
      else io.out('auth_method:   private_key_jwt (signed with the keys registered)');
      io.out(`scopes:        ${(added['scopes'] as string[]).join(' ')}`);
      io.out(`resources:     ${(added['resources'] as string[]).join(' ')}`);
      if (added['redirect_uris']) io.out(`redirect_uris: ${(added['redirect_uris'] as string[]).join(' ')}`);
      if (added['client_secret']) io.err('crossauth: the secret is shown this once; store it now (it is kept only as a keyed hash).');
      return 0;
    }
    case 'list': {
      const { clients } = (await call('oauth_client_list', {})) as { clients: Array<Record<string, unknown>> };
      if (clients.length === 0) io.out('(no clients)');
      for (const c of clients)
        io.out(
          `${String(c['client_id'])}  scopes=${(c['scopes'] as string[]).join(' ')}  resources=${(c['resources'] as string[]).join(' ')}  created=${String(c['created_at'])}`,
        );
      return 0;
    }
    case 'rotate-secret': {
      if (!id) throw new Error('client rotate-secret needs an id');
      const rotated = await call('oauth_client_rotate_secret', { id });
      io.out(`client_secret: ${String(rotated['client_secret'])}`);
      io.err('crossauth: the old secret no longer works; the new one is shown this once.');
      return 0;
    }
    case 'remove': {
      if (!id) throw new Error('client remove needs an id');
      const removed = await call('oauth_client_remove', { id });
      if (!removed['removed'] && !removed['already_removed']) {
        io.out(`no client ${id}`);
        return 1;
      }
      io.out(`${removed['removed'] ? 'removed' : 'already removed:'} ${id}; its tokens issued up to ${String(removed['revoked_as_of'])} are revoked`);
      for (const line of revocationLines(id, removed['resources'] as ResourceRevocation[])) io.out(line);
      return 0;
    }
    default:
      throw new Error('client needs add, list, rotate-secret or remove');
  }
}

type ResourceRevocation = {
  resource: string;
  status: string;
  attempts?: number;
  confirmed_at?: string;
  last_error?: string | null;
  next_attempt_at?: string;
  tokens_expire_by?: string;
  note?: string;
};

/** One line per resource of a removed client: where its revocation stands there. */
function revocationLines(id: string, resources: readonly ResourceRevocation[]): string[] {
  return resources.map((r) => {
    switch (r.status) {
      case 'revoked_here':
        return `  ${r.resource}: revoked (this authorization server's own resource)`;
      case 'confirmed':
        return `  ${r.resource}: confirmed at ${String(r.confirmed_at)}`;
      case 'pending':
        return `  ${r.resource}: PENDING after ${String(r.attempts)} attempt(s) (${r.last_error ?? 'not tried yet'}); retried until confirmed, next at ${String(r.next_attempt_at)}; \`crossauth client remove ${id}\` again shows where it stands`;
      default:
        return `  ${r.resource}: not notified: ${String(r.note)}; tokens expire by ${String(r.tokens_expire_by)}`;
    }
  });
}

/** `crossauth keys list|rotate`, through the orchestrator's admin tools. Public key facts only. */
async function keysCommand(
  env: Environment,
  values: { url?: string; aud?: string; alg?: string; 'secret-env'?: string },
  [action]: string[],
  io: Io,
): Promise<number> {
  if (action !== 'list' && action !== 'rotate') throw new Error('keys needs list or rotate');
  if (values.alg !== undefined && values.alg !== 'EdDSA' && values.alg !== 'ES256') throw new Error('--alg must be EdDSA or ES256');
  const result = await callAdminTool(
    env,
    { ...values, url: values.url ?? ORCHESTRATOR_MCP, aud: values.aud ?? 'orchestrator' },
    action === 'list' ? 'signing_key_list' : 'signing_key_rotate',
    action === 'rotate' && values.alg ? { alg: values.alg } : {},
  );
  const text = (result.content as Array<{ text?: string }>)[0]?.text ?? '';
  if (result.isError) throw new Error(text);
  const answer = JSON.parse(text) as {
    added?: string;
    signs_from?: string;
    keys: Array<{ kid: string; alg: string; state: string; activeFrom: string; unpublishedAt?: string }>;
  };
  if (answer.added) io.out(`added ${answer.added}: published now, signs from ${String(answer.signs_from)}`);
  for (const k of answer.keys)
    io.out(`${k.kid}  ${k.alg.padEnd(5)}  ${k.state.padEnd(8)}  signs from ${k.activeFrom}${k.unpublishedAt ? `  unpublished at ${k.unpublishedAt}` : ''}`);
  return 0;
}

/** Runs one CLI invocation. Resolves to the exit code. Never prints a service secret (a client secret once, when it is made). */
export async function runCli(argv: string[], env: Environment, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sub: { type: 'string' },
      scope: { type: 'string' },
      aud: { type: 'string' },
      iss: { type: 'string' },
      ttl: { type: 'string' },
      role: { type: 'string' },
      type: { type: 'string' },
      legacy: { type: 'boolean' },
      'secret-env': { type: 'string' },
      url: { type: 'string' },
      before: { type: 'string' },
      resource: { type: 'string', multiple: true },
      'jwks-file': { type: 'string' },
      public: { type: 'boolean' },
      'redirect-uri': { type: 'string', multiple: true },
      'client-id': { type: 'string' },
      'client-key-file': { type: 'string' },
      issuer: { type: 'string' },
      name: { type: 'string' },
      alg: { type: 'string' },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  try {
    switch (command) {
      case 'secret':
        io.out(randomBytes(48).toString('base64url'));
        return 0;
      case 'fingerprint': {
        if (!values['secret-env']) return fingerprint(env, io);
        const { name, secret, previous } = secretFrom(env, values['secret-env']);
        io.out(`${deriveKeyId(secret)}  current   (${name})`);
        for (const p of previous) io.out(`${deriveKeyId(p)}  previous`);
        return 0;
      }
      case 'mint': {
        if (!values.sub) throw new Error('mint needs --sub');
        const ttl = Number(values.ttl ?? 300);
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) throw new Error('--ttl must be 1-86400 seconds');
        if (values.type && values.type !== 'access' && values.type !== 'refresh') throw new Error('--type must be access or refresh');
        const { secret } = secretFrom(env, values['secret-env']);
        const issuer = values.iss ?? configuredIssuer(env) ?? DEFAULT_ISSUER;
        const options = resolveAuthOptions({ secret, issuer, allowedIssuers: [issuer], audiences: ['unused'] });
        const minted = new TokenIssuerService(options, new JwtService({})).mint({
          subject: values.sub,
          audience: (values.aud ?? 'session-buddy').split(','),
          scopes: (values.scope ?? '').split(/[ ,]+/).filter(Boolean),
          ttlSeconds: ttl,
          role: values.role,
          type: (values.type as 'access' | 'refresh' | undefined) ?? 'access',
        });
        io.out(minted.token);
        return 0;
      }
      case 'inspect': {
        const token = rest[0];
        if (!token) throw new Error('inspect needs a token');
        const [h, p] = token.split('.');
        io.out(`header: ${JSON.stringify(decodeSegment(h))}`);
        io.out(`claims: ${JSON.stringify(decodeSegment(p))}`);
        const { secret, previous } = secretFrom(env, values['secret-env']);
        const options = resolveAuthOptions({
          secret,
          previousSecrets: previous,
          issuer: 'crossauth-cli',
          allowedIssuers: values.iss ? values.iss.split(',') : [configuredIssuer(env) ?? DEFAULT_ISSUER, 'mahavishnu'],
          // Explains a token that still says the orchestrator's legacy name the way session-buddy would.
          legacyIssuers: values.iss ? [] : [{ name: 'orchestrator', issuer: configuredIssuer(env) ?? DEFAULT_ISSUER, until: DEFAULT_LEGACY_ISSUERS_UNTIL }],
          audiences: (values.aud ?? 'session-buddy').split(','),
          acceptLegacyTokens: values.legacy ?? false,
          verificationCache: { enabled: false },
        });
        try {
          const principal = new TokenVerifierService(options).verify(token);
          io.out(
            `valid: subject=${principal.subject} issuer=${principal.issuer} scopes=${principal.scopes.join(' ') || '(none)'} expires=${new Date(principal.expiresAt * 1000).toISOString()}`,
          );
          return 0;
        } catch (error) {
          if (!(error instanceof AuthError)) throw error;
          io.out(`invalid: ${error.reason}: ${error.message}${error.detail ? ` (${error.detail})` : ''}`);
          return 2;
        }
      }
      case 'call':
        return await callCommand(env, values, rest, io);
      case 'revoke-token':
      case 'revoke-subject': {
        const target = rest[0];
        if (!target) throw new Error(`${command} needs a ${command === 'revoke-token' ? 'jti or token' : 'subject'}`);
        const args =
          command === 'revoke-subject'
            ? { subject: target, ...(values.before ? { issued_before: values.before } : {}) }
            : target.split('.').length === 3
              ? { token_to_revoke: target }
              : { jti: target };
        const result = await callAdminTool(env, values, command === 'revoke-token' ? 'revoke_token' : 'revoke_subject', args);
        const text = (result.content as Array<{ text?: string }>)[0]?.text ?? '';
        if (result.isError) {
          io.err(`crossauth: ${text}`);
          return 1;
        }
        io.out(text);
        return 0;
      }
      case 'client':
        return await clientCommand(env, values, rest, io);
      case 'keys':
        return await keysCommand(env, values, rest, io);
      case 'user':
        return await userCommand(orchestratorAdmin(env, values), env, values, rest, io);
      case 'grants':
        return await grantsCommand(orchestratorAdmin(env, values), values, rest, io);
      default:
        io.out(USAGE);
        return command === undefined || values.help ? 0 : 1;
    }
  } catch (error) {
    io.err(`crossauth: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
