import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './spawn-app';
import { waitFor } from './wait';

/** What the fixture provider is started with; see oidc-provider.mjs. */
export interface OidcFixtureConfig {
  readonly audience?: string;
  readonly scopes?: readonly string[];
  readonly alg?: 'RS256' | 'PS256' | 'ES256';
  readonly modulusLength?: number;
  readonly clients?: readonly Record<string, unknown>[];
  readonly accounts?: Record<string, Record<string, unknown>>;
}

/** A real OpenID provider running in its own process. */
export interface OidcFixture {
  readonly issuer: string;
  readonly output: string[];
  /** A client-credentials access token (RFC 9068 JWT) for the fixture's audience. */
  clientCredentials(clientId: string, clientSecret: string, scope: string, resource?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startOidcProvider(config: OidcFixtureConfig): Promise<OidcFixture> {
  const child = spawn(process.execPath, [join(__dirname, 'oidc-provider.mjs')], {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env['PATH'] ?? '', OIDC_FIXTURE: JSON.stringify(config) },
  });
  const output: string[] = [];
  let issuer: string | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      try {
        issuer ??= (JSON.parse(line) as { issuer?: string }).issuer;
      } catch {
        // not the ready line
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await waitFor('the OpenID provider to listen', () => {
    if (child.exitCode !== null) throw new Error(`the OpenID provider exited:\n${output.join('\n')}`);
    return issuer;
  });
  return {
    issuer: ready,
    output,
    async clientCredentials(clientId, clientSecret, scope, resource = config.audience) {
      const res = await fetch(`${ready}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, ...(resource ? { resource } : {}) }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string };
      if (!body.access_token) throw new Error(`the OpenID provider refused client credentials: ${body.error ?? res.status}`);
      return body.access_token;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
