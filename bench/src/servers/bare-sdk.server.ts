// Baseline: the MCP SDK's own Streamable HTTP server with the same echo tool,
// no auth, no Nest. Everything else is measured as a ratio to this.
import express from 'express';
import { createExpressServer } from '@crossauth/mcp-server';
import { bareMcpHandler } from './bare-handler';

const port = Number(process.env['PORT'] ?? 0);
// --json: answer POSTs with one JSON body instead of an event stream (the SDK default).
const handle = bareMcpHandler('bare', { stateless: process.argv.includes('--stateless'), enableJsonResponse: process.argv.includes('--json') });

const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/mcp', (req, res) => handle(req, res, req.body));
// --born-express: requests and responses born with Express's prototypes, crossauth's
// fix for Express 5's per-request re-parenting (docs/benchmarks.md), and nothing else of ours.
const server = process.argv.includes('--born-express') ? createExpressServer(app) : undefined;
const onListening = () => process.stdout.write(`listening ${(listener.address() as { port: number }).port}\n`);
const listener = server ? server.listen(port, '127.0.0.1', onListening) : app.listen(port, '127.0.0.1', onListening);
// Exit cleanly on SIGTERM so --cpu-prof can write its profile.
process.on('SIGTERM', () => process.exit(0));
