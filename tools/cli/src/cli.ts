import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { JwtService } from '@nestjs/jwt';
import {
  AuthError,
  TokenIssuerService,
  TokenVerifierService,
  assertAcceptableSecret,
  deriveKeyId,
  readSecretList,
  readSecretVariable,
  resolveAuthOptions,
  signRequest,
  type Environment,
  type KeyRing,
} from '@crossauth/auth';

/** Where command output goes; injectable for tests. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `crossauth <command> [options]

Commands:
  secret                         print a new random secret (48 bytes, base64url)
  fingerprint                    print the key id of the configured secret(s)
  mint --sub S --scope "read write" [--aud session-buddy] [--iss orchestrator] [--ttl 300] [--role R] [--type access|refresh]
                                 mint a token with the configured secret
  inspect <token> [--aud A] [--iss I,J] [--legacy]
                                 decode a token and say whether it verifies, and why not
  revoke-token <jti|token> [--url http://127.0.0.1:8678/mcp]
  revoke-subject <sub> [--before ISO-8601] [--url …]
                                 revoke through session-buddy's admin tools (effective at once,
                                 persisted); authenticates with a 60 s admin token it mints

The secret is read from CROSSAUTH_SECRET, ORCHESTRATOR_AUTH_SECRET or
SESSION_BUDDY_SECRET (or their _FILE variants), in that order; --secret-env NAME
picks another variable. Previous secrets (for inspect) come from NAME's
*_PREVIOUS_SECRETS sibling when set.`;

const SECRET_VARIABLES = ['CROSSAUTH_SECRET', 'ORCHESTRATOR_AUTH_SECRET', 'SESSION_BUDDY_SECRET'];

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

/** Calls one session-buddy admin tool as `crossauth-cli`, signing the requests. */
async function callAdminTool(env: Environment, values: { url?: string; iss?: string; aud?: string; 'secret-env'?: string }, tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const { secret } = secretFrom(env, values['secret-env']);
  const issuer = values.iss ?? 'orchestrator';
  const options = resolveAuthOptions({ secret, issuer, allowedIssuers: [issuer], audiences: ['unused'] });
  const keys = options.keyRing as KeyRing;
  const token = new TokenIssuerService(options, new JwtService({})).mint({ subject: 'crossauth-cli', audience: values.aud ?? 'session-buddy', scopes: ['admin'], ttlSeconds: 60 }).token;
  const url = new URL(values.url ?? 'http://127.0.0.1:8678/mcp');
  const signedFetch = (target: string | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    const u = new URL(target);
    const signed = signRequest({ method: init?.method ?? 'GET', authority: u.host, path: u.pathname, body: typeof init?.body === 'string' ? init.body : '' }, { kid: keys.current.kid, key: keys.current.requestSigningKey });
    for (const [name, value] of Object.entries(signed)) headers.set(name, value);
    return fetch(target, { ...init, headers });
  };
  const client = new Client({ name: 'crossauth-cli', version: '0.1.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { fetch: signedFetch }));
  try {
    return (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
  } finally {
    await client.close();
  }
}

/** Runs one CLI invocation. Resolves to the exit code. Never prints a secret. */
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
        const { name, secret, previous } = secretFrom(env, values['secret-env']);
        io.out(`${deriveKeyId(secret)}  (${name}, current)`);
        for (const p of previous) io.out(`${deriveKeyId(p)}  (previous)`);
        return 0;
      }
      case 'mint': {
        if (!values.sub) throw new Error('mint needs --sub');
        const ttl = Number(values.ttl ?? 300);
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) throw new Error('--ttl must be 1-86400 seconds');
        if (values.type && values.type !== 'access' && values.type !== 'refresh') throw new Error('--type must be access or refresh');
        const { secret } = secretFrom(env, values['secret-env']);
        const issuer = values.iss ?? 'orchestrator';
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
          allowedIssuers: (values.iss ?? 'orchestrator,mahavishnu').split(','),
          audiences: (values.aud ?? 'session-buddy').split(','),
          acceptLegacyTokens: values.legacy ?? false,
          verificationCache: { enabled: false },
        });
        try {
          const principal = new TokenVerifierService(options).verify(token);
          io.out(`valid: subject=${principal.subject} issuer=${principal.issuer} scopes=${principal.scopes.join(' ') || '(none)'} expires=${new Date(principal.expiresAt * 1000).toISOString()}`);
          return 0;
        } catch (error) {
          if (!(error instanceof AuthError)) throw error;
          io.out(`invalid: ${error.reason}: ${error.message}${error.detail ? ` (${error.detail})` : ''}`);
          return 2;
        }
      }
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
      default:
        io.out(USAGE);
        return command === undefined || values.help ? 0 : 1;
    }
  } catch (error) {
    io.err(`crossauth: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
