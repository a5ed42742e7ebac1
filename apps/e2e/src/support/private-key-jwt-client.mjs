// A separate Node process for the SDK's PrivateKeyJwtProvider: it loads `jose`,
// an ES module that Jest's CommonJS runtime cannot require. Usage:
//   CLIENT_KEY='<private JWK>' node private-key-jwt-client.mjs <mcp url> <client id> <tool> '<json args>'
// Prints the tool result as JSON.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, clientId, tool, args] = process.argv.slice(2);
const provider = new PrivateKeyJwtProvider({ clientId, privateKey: JSON.parse(process.env.CLIENT_KEY ?? '{}'), algorithm: 'ES256' });
const client = new Client({ name: 'private-key-jwt-e2e', version: '1' });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
process.stdout.write(JSON.stringify(await client.callTool({ name: tool, arguments: JSON.parse(args ?? '{}') })));
await client.close();
