import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackCertificate } from '@crossauth/auth/testing';

/** What one path answers. */
export interface FixtureAnswer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * An HTTPS server on loopback with a certificate from a CA made here, as a
 * client's developer serves its metadata document. Processes that should
 * trust it get `NODE_EXTRA_CA_CERTS=<caFile>`.
 */
export async function httpsFixture(): Promise<{
  readonly base: string;
  readonly caFile: string;
  readonly routes: Map<string, () => FixtureAnswer>;
  readonly hits: string[];
  close(): Promise<void>;
}> {
  const { caCert, cert, key } = await loopbackCertificate();
  const caFile = join(mkdtempSync(join(tmpdir(), 'e2e-ca-')), 'ca.pem');
  writeFileSync(caFile, caCert);
  const routes = new Map<string, () => FixtureAnswer>();
  const hits: string[] = [];
  const server: Server = createServer({ key, cert }, (req, res) => {
    hits.push(req.url ?? '');
    const route = routes.get(req.url ?? '');
    if (!route) return void res.writeHead(404).end();
    const answer = route();
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caFile,
    routes,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
