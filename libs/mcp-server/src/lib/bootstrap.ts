import { Logger, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AUTH_OPTIONS, type ResolvedAuthOptions } from '@crossauth/auth';
import { ExpressHttpAdapter } from './express-http.adapter';
import { DEFAULT_REDACTED_KEYS, JsonLogger } from './json-logger';
import { InFlightRequests } from './in-flight-requests.service';
import { McpStdioRunner } from './mcp-stdio.runner';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function logLevels(): LogLevel[] {
  // LOG_LEVEL is read here, at the process edge, like the rest of bootstrap.
  const wanted = (process.env['LOG_LEVEL'] ?? 'log') as LogLevel;
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, Math.max(1, order.indexOf(wanted) + 1));
}

/** How long a shutdown waits for requests already running before it closes storage under them. */
/** Longest wait for shutdown hooks once requests have drained. */
const CLOSE_MS = 5_000;
const DRAIN_MS = 10_000;

/**
 * A graceful stop: no new connections, then the requests already running are
 * let finish (up to {@link DRAIN_MS}), then modules close (sessions, storage,
 * Redis), then the process ends by the same signal.
 */
async function drainAndClose(app: INestApplication, signal: NodeJS.Signals): Promise<void> {
  const log = new Logger('Shutdown');
  const inFlight = app.get(InFlightRequests);
  log.log({ event: 'draining', signal, inFlight: inFlight.size });
  (app.getHttpServer() as { close(): void }).close();
  if (!(await inFlight.drained(DRAIN_MS))) log.warn({ event: 'drain_timeout', inFlight: inFlight.size });
  // Shutdown hooks close pools, sessions and servers; one that never settles must not keep a
  // stopped process alive (a clean-clone CI run saw an orchestrator wait on one forever).
  const closed = app.close().then(
    () => true,
    (error: unknown) => (log.error({ event: 'close_failed', error: error instanceof Error ? error.message : String(error) }), true),
  );
  const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), CLOSE_MS));
  if (!(await Promise.race([closed, timer]))) log.warn({ event: 'close_timeout', afterMs: CLOSE_MS });
  process.kill(process.pid, signal);
}

/** Where to listen, from the app's validated config. */
export interface ListenTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * Starts an MCP app: over stdio with `--stdio`, else over HTTP. With auth
 * `disabled` the HTTP server binds to loopback whatever the configured host.
 * Returns the HTTP app (undefined for stdio, which resolves on disconnect).
 */
export async function startMcpApplication(
  rootModule: unknown,
  listenTarget: (app: { get<T>(token: unknown): T }) => ListenTarget,
  argv: readonly string[] = process.argv,
): Promise<INestApplication | undefined> {
  const stdio = argv.includes('--stdio');
  // LOG_REDACT_KEYS adds keys to the default redaction list (comma-separated).
  const extraRedactions = (process.env['LOG_REDACT_KEYS'] ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const logger = new JsonLogger(stdio, logLevels(), [...DEFAULT_REDACTED_KEYS, ...extraRedactions]);
  // One stray rejection must not take every other caller's server down with it.
  process.on('unhandledRejection', (reason) => {
    new Logger('Process').error({ event: 'unhandled_rejection', error: reason instanceof Error ? reason.stack : String(reason) });
  });
  if (stdio) {
    const context = await NestFactory.createApplicationContext(rootModule as never, { logger });
    context.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    await context.get(McpStdioRunner).run();
    await context.close();
    return undefined;
  }
  const app = await NestFactory.create<NestExpressApplication>(rootModule as never, new ExpressHttpAdapter(), { logger, bodyParser: false });
  // Not SIGHUP: that one reloads secrets (AuthKeysService.reloadOn).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void drainAndClose(app, signal));
  const target = listenTarget(app);
  const port = target.port;
  let host = target.host;
  const auth = app.get<ResolvedAuthOptions>(AUTH_OPTIONS);
  if (auth.mode === 'disabled' && !LOOPBACK.has(host)) {
    new Logger('Bootstrap').warn({ event: 'loopback_forced', message: `auth is disabled, so binding to 127.0.0.1 instead of ${host}` });
    host = '127.0.0.1';
  }
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number } | null;
  new Logger('Bootstrap').log({
    event: 'listening',
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address?.port ?? port}/mcp`,
    authMode: auth.mode,
  });
  return app;
}
