// A plain node:http server that reads each request whole and answers one
// fixed JSON-RPC result, about the size of session-buddy's `status` answer:
// the peer for measuring HTTP clients alone (`npm run bench -- http-client`).
import { createServer } from 'node:http';

const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  result: {
    content: [{ type: 'text', text: JSON.stringify({ open: true, project: 'bench', started_at: '2026-12-02T00:00:00.000Z', checkpoints: 3 }) }],
    structuredContent: { open: true, project: 'bench', started_at: '2026-12-02T00:00:00.000Z', checkpoints: 3 },
    resultType: 'complete',
  },
});
const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };

createServer((req, res) => {
  req.resume();
  req.once('end', () => res.writeHead(200, headers).end(body));
}).listen(Number(process.env['PORT']), '127.0.0.1');
