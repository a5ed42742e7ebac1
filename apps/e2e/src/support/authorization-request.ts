import { createHash, randomBytes } from 'node:crypto';
import { cli } from './cli';

/** An authorization request as an MCP client makes it (code, PKCE S256), and the verifier its token request needs. */
export function authorizationRequest(orchestratorUrl: string, params: Record<string, string>): { readonly url: string; readonly verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${orchestratorUrl}/oauth/authorize`);
  const fields = { response_type: 'code', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', ...params };
  for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
  return { url: url.toString(), verifier };
}

/** Registers the public client "Desktop App" (`desktop-app`, loopback redirects) with the CLI; resolves the CLI's exit code. */
export async function addDesktopApp(orchestratorMcpUrl: string, secret: string, resource: string, scope: string): Promise<number | null> {
  const args = [
    'client',
    'add',
    'desktop-app',
    '--public',
    '--name',
    'Desktop App',
    '--scope',
    scope,
    '--resource',
    resource,
    '--redirect-uri',
    'http://127.0.0.1/callback',
  ];
  return (await cli([...args, '--url', orchestratorMcpUrl], { CROSSAUTH_SECRET: secret })).code;
}
