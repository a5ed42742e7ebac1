// A real OpenID provider (panva's certified oidc-provider) in its own process,
// standing in for an organisation's Okta, Entra ID or Keycloak.
//
// Configured by one JSON environment variable, OIDC_FIXTURE:
//   { "port": 0, "audience": "<resource>", "scopes": ["read", "write"],
//     "alg": "RS256", "clients": [<oidc-provider client metadata>],
//     "accounts": { "<login>": { <claims> } } }
// Machines get JWT access tokens (client credentials + resource indicators);
// people sign in on the provider's development login page, where the login
// name picks an account from "accounts" (and any password is accepted).
// Prints one JSON line, {"issuer": "..."}, once it is listening.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_FIXTURE ?? '{}');
const alg = config.alg ?? 'RS256';
const keyType = alg === 'ES256' ? ['ec', { namedCurve: 'P-256' }] : ['rsa', { modulusLength: config.modulusLength ?? 2048 }];
const { privateKey } = generateKeyPairSync(...keyType);
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `fixture-${alg.toLowerCase()}`, alg, use: 'sig' };
const accounts = config.accounts ?? {};
const scopes = config.scopes ?? ['read', 'write'];

const server = createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients ?? [],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'email', 'profile', 'offline_access', ...scopes],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
  enabledJWA: { idTokenSigningAlgValues: [alg], requestObjectSigningAlgValues: [alg] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== config.audience) throw new Error('unknown resource');
        return { scope: scopes.join(' '), audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg } } };
      },
    },
  },
  ttl: { ClientCredentials: 300, AccessToken: 300, IdToken: 300 },
  findAccount: (_ctx, id) => (accounts[id] ? { accountId: id, claims: () => ({ sub: id, ...accounts[id] }) } : undefined),
  // The fixture is reached over plain loopback HTTP; nothing about it is a production setting.
  cookies: { keys: ['oidc-fixture-cookie-key'] },
});
provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error ${error.message}\n`));
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
