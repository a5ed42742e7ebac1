// Baseline: the MCP SDK's own Streamable HTTP server with the same echo tool,
// no auth, no Nest. Everything else is measured as a ratio to this.
import express from 'express';
import { bareMcpHandler } from './bare-handler';

const port = Number(process.env['PORT'] ?? 0);
// --json: answer POSTs with one JSON body instead of an event stream (the SDK default).
const handle = bareMcpHandler('bare', { stateless: process.argv.includes('--stateless'), enableJsonResponse: process.argv.includes('--json') });

const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/mcp', (req, res) => handle(req, res, req.body));
const listener = app.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(listener.address() as { port: number }).port}\n`));
// Exit cleanly on SIGTERM so --cpu-prof can write its profile.
process.on('SIGTERM', () => process.exit(0));
