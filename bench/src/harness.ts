import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { JwtService } from '@nestjs/jwt';
import { TokenIssuerService, resolveAuthOptions, signRequest } from '@crossauth/auth';

export const ROOT = join(__dirname, '..', '..');
export const RESULTS = join(ROOT, 'docs', 'bench-results');
/** The compiled bench: `servers/*.server.js` and the `*.preload.js` scripts. */
export const BENCH_DIST = join(ROOT, 'bench', 'dist');
export const SECRET = randomBytes(36).toString('base64url');

/** Repetitions, seconds per cell and warm-up of the shorter paired runs (scale, oauth); BENCH_* override. */
export const SHORT_RUNS = {
  reps: Number(process.env['BENCH_REPS'] ?? 8),
  seconds: Number(process.env['BENCH_SECONDS'] ?? 3),
  warmup: Number(process.env['BENCH_WARMUP_SECONDS'] ?? 8),
} as const;

/** A server process under test. */
export interface Server {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  rssMiB(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until the server answers HTTP; throws if it exits first or takes longer than `timeoutMs`. */
export async function waitUntilAnswering(name: string, child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      await (await fetch(url)).text();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts `node <script> <args>` on a free port (`PORT` and `portVar` set) and waits until it answers HTTP. */
export async function startServer(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string> = {},
  portVar = 'PORT',
  nodeArgs: string[] = [],
  pin = false,
): Promise<Server> {
  const port = await freePort();
  const cores = serverCpus();
  // With `pin`, the server and all its threads run on the cores the load generator does not use.
  // Without it, on every core: a child inherits its parent's affinity, and a pinned
  // load generator would otherwise put the "unpinned" servers on its own core.
  const affinity = cores ? (pin ? cores : `0-${cpus().length - 1}`) : undefined;
  const [command, argv] = affinity
    ? ['taskset', ['-c', affinity, process.execPath, ...nodeArgs, script, ...args]]
    : [process.execPath, [...nodeArgs, script, ...args]];
  const child = spawn(command as string, argv as string[], {
    // A data home of its own: a server's default data directory is never the machine's real one.
    env: {
      PATH: process.env['PATH'] ?? '',
      LOG_LEVEL: 'warn',
      BENCH_SECRET: SECRET,
      PORT: String(port),
      [portVar]: String(port),
      XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'bench-data-')),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitUntilAnswering(name, child, url, 30_000);
  return {
    name,
    url,
    process: child,
    rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

let tasksetFound: boolean | undefined;
function tasksetAvailable(): boolean {
  tasksetFound ??= spawnSync('taskset', ['-V']).status === 0;
  return tasksetFound;
}

/** Cores for servers when the load generator keeps core 0 to itself; undefined when there is nothing to split. */
function serverCpus(): string | undefined {
  const n = cpus().length;
  if (n < 2 || !tasksetAvailable()) return undefined;
  return n === 2 ? '1' : `1-${n - 1}`;
}

/**
 * Pins this process (the load generator) to core 0, so it does not steal
 * cycles from the servers under test. Returns whether pinning is in effect.
 */
export function pinSelf(): boolean {
  if (!serverCpus()) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)]).status === 0;
}

/** CPU time (user + system, all threads) a server process has used, in µs. */
export function cpuMicros(server: Server): number {
  const fields = readFileSync(`/proc/${server.process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS;
}
// Linux's USER_HZ; `getconf CLK_TCK` is 100 on every mainstream kernel.
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** The issuer session-buddy trusts by default (the orchestrator's default URL); bench orchestrators are given it. */
export const ISSUER = 'http://127.0.0.1:8679';

/** A token with our issuer's defaults for the given audience. */
export function token(audience: string, subject = 'bench', scopes = ['read', 'write']): string {
  const options = resolveAuthOptions({ secret: SECRET, issuer: ISSUER, allowedIssuers: [ISSUER], audiences: [audience] });
  return new TokenIssuerService(options, new JwtService({})).mint({ subject, audience, scopes, ttlSeconds: 3600 }).token;
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** RFC 9421 headers for a POST to `url` with `body`, signed with the bench secret's key. */
const signingKeys = resolveAuthOptions({ secret: SECRET, issuer: 'x', allowedIssuers: ['x'], audiences: ['x'] }).keyRing;

export function signatureHeaders(url: string, body: string): Record<string, string> {
  const keys = signingKeys;
  if (!keys) throw new Error('no key');
  const u = new URL(url);
  return signRequest({ method: 'POST', authority: u.host, path: u.pathname, body }, { kid: keys.current.kid, key: keys.current.requestSigningKey });
}

export const callBody = (id: number, tool: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args } });

/**
 * autocannon requests for `tools/call` with unique JSON-RPC ids, continuing
 * across runs that share them. With `sign`, the first `presign` requests are
 * signed before the clock starts (each with its own nonce), so the load
 * generator's signing does not compete with the server; later ones on the fly.
 */
export function callRequests(
  url: string,
  headers: Record<string, string>,
  opts: { sign?: boolean; presign?: number; tool?: string; args?: Record<string, unknown> } = {},
): autocannon.Request[] {
  const tool = opts.tool ?? 'echo';
  const args = opts.args ?? { text: 'hello' };
  const signed = (n: number) => {
    const body = callBody(n, tool, args);
    return { body, headers: signatureHeaders(url, body) };
  };
  const presigned = opts.sign ? Array.from({ length: opts.presign ?? 0 }, (_, i) => signed(i + 1)) : [];
  let id = 1;
  return [
    {
      method: 'POST',
      headers,
      setupRequest: (req) => {
        const n = id++;
        if (!opts.sign) return { ...req, body: callBody(n, tool, args) };
        const { body, headers: signature } = presigned[n - 1] ?? signed(n);
        return { ...req, body, headers: { ...req.headers, ...signature } };
      },
    },
  ];
}

/** Opens a stateful MCP session (initialize + initialized) and returns its id. */
export async function openSession(url: string, headers: Record<string, string>, sign = false): Promise<string> {
  const post = (body: string, extra: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers, ...extra, ...(sign ? signatureHeaders(url, body) : {}) }, body });
  const init = await post(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    }),
  );
  const id = init.headers.get('mcp-session-id');
  await init.text();
  if (!id) throw new Error(`no session from ${url}: ${init.status}`);
  await (await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), { 'mcp-session-id': id })).text();
  return id;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function saveResult(name: string, data: unknown): void {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

export function machine(): Record<string, string> {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return { node: process.version, cpu, cores: String(cpus().length), date: new Date().toISOString() };
}
