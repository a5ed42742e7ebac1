import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');
export type AppName = 'session-buddy' | 'orchestrator';

/** A free loopback port (the kernel picks; we release it just before the app binds). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running app process and what it logged. */
export interface RunningApp {
  readonly name: AppName;
  readonly port: number;
  readonly url: string;
  readonly mcpUrl: string;
  readonly process: ChildProcessWithoutNullStreams;
  /** Every log line so far, raw. */
  readonly lines: string[];
  /** Log lines parsed as JSON (Nest's JSON logger). */
  logs(): Array<{ level: string; message: unknown; context?: string }>;
  /** Graceful stop (SIGTERM), waiting for exit. */
  stop(): Promise<void>;
  /** Crash (SIGKILL), waiting for exit. */
  kill(): Promise<void>;
}

const PORT_VAR: Record<AppName, string> = { 'session-buddy': 'SESSION_BUDDY_PORT', orchestrator: 'ORCHESTRATOR_PORT' };

/**
 * The environment a child gets: PATH and HOME, a data home of its own (so no
 * default data directory is ever the machine's real one), plus what the test sets.
 */
function baseEnv(): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'e2e-data-')), LOG_LEVEL: 'log' };
}

/** Spawns `node dist/apps/<name>/main.js` (as `nx serve` does) and waits until it answers. */
export async function spawnApp(name: AppName, env: Record<string, string>, port?: number): Promise<RunningApp> {
  const chosen = port ?? (await freePort());
  // Run from an empty directory so no developer .env leaks into the test.
  mkdirSync(join(WORKSPACE_ROOT, 'tmp'), { recursive: true });
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist', 'apps', name, 'main.js')], {
    cwd: join(WORKSPACE_ROOT, 'tmp'),
    env: { ...baseEnv(), [PORT_VAR[name]]: String(chosen), ...env },
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${chosen}`;
  const app: RunningApp = {
    name,
    port: chosen,
    url,
    mcpUrl: `${url}/mcp`,
    process: child,
    lines,
    logs: () =>
      lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as { level: string; message: unknown; context?: string }];
        } catch {
          return [];
        }
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${lines.join('\n')}`);
    try {
      const res = await fetch(`${url}/.well-known/oauth-protected-resource`);
      if (res.ok) return app;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await app.kill();
  throw new Error(`${name} did not become ready:\n${lines.join('\n')}`);
}

/** Runs a built app to completion (for start-up failures) and returns its exit code and output. */
export async function runToExit(name: AppName, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  mkdirSync(join(WORKSPACE_ROOT, 'tmp'), { recursive: true });
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist', 'apps', name, 'main.js')], {
    cwd: join(WORKSPACE_ROOT, 'tmp'),
    env: { ...baseEnv(), ...env },
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output };
}

/** session-buddy and the orchestrator as its authorization server, sharing `secret`, each with a fresh data directory. */
export async function startPair(
  secret: string,
  prefix: string,
  env: { readonly sessionBuddy?: Record<string, string>; readonly orchestrator?: Record<string, string> } = {},
): Promise<{ readonly sessionBuddy: RunningApp; readonly orchestrator: RunningApp; stop(): Promise<void> }> {
  const orchestratorPort = await freePort();
  const sessionBuddy = await spawnApp('session-buddy', {
    SESSION_BUDDY_SECRET: secret,
    SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), `${prefix}-sb-`)),
    SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${orchestratorPort}`,
    ...env.sessionBuddy,
  });
  const orchestrator = await spawnApp(
    'orchestrator',
    {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl,
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), `${prefix}-orch-`)),
      ...env.orchestrator,
    },
    orchestratorPort,
  );
  return {
    sessionBuddy,
    orchestrator,
    stop: async () => {
      await orchestrator.stop();
      await sessionBuddy.stop();
    },
  };
}
