import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT, freePort } from './support/spawn-app';
import { newSecret } from './support/tokens';
import { waitFor } from './support/wait';

/** `npm start`'s script, run from the workspace root as `npm start` runs it. */
interface Supervisor {
  readonly process: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  readonly sessionBuddyUrl: string;
  readonly orchestratorUrl: string;
}

/** Runs `npm start`'s script; with `terminal`, on a pseudo-terminal (util-linux `script`), as a person at a shell does. */
function startSupervisor(env: Record<string, string>, ports: { sb: number; orch: number }, terminal = false): Supervisor {
  const script = join(WORKSPACE_ROOT, 'tools/scripts/start.mjs');
  const [command, args] = terminal ? ['script', ['-qfec', `'${process.execPath}' '${script}'`, '/dev/null']] : [process.execPath, [script]];
  const child = spawn(command, args, {
    cwd: WORKSPACE_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      SESSION_BUDDY_PORT: String(ports.sb),
      ORCHESTRATOR_PORT: String(ports.orch),
      ORCHESTRATOR_SESSION_BUDDY_URL: `http://127.0.0.1:${ports.sb}/mcp`,
      // Moving the orchestrator moves its issuer: session-buddy is told where it went.
      SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${ports.orch}`,
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'start-e2e-')),
      // The orchestrator's default data directory, away from the machine's real one.
      XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'start-e2e-data-')),
      ...env,
    },
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split(/\r?\n/).filter(Boolean));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, lines, exited, sessionBuddyUrl: `http://127.0.0.1:${ports.sb}`, orchestratorUrl: `http://127.0.0.1:${ports.orch}` };
}

const answers = async (url: string): Promise<true | undefined> => {
  try {
    return (await fetch(`${url}/.well-known/oauth-protected-resource`)).ok ? true : undefined;
  } catch {
    return undefined;
  }
};

const pidOf = (lines: string[], name: string, skip = 0): number | undefined => {
  const pids = lines.flatMap((l) => {
    const m = new RegExp(`^crossauth: ${name} started \\(pid (\\d+)\\)`).exec(l);
    return m ? [Number(m[1])] : [];
  });
  return pids[skip];
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start supervises both services', () => {
  const secret = newSecret();

  it('restarts a service that dies, says so, and stops both on SIGTERM', async () => {
    const s = startSupervisor({ SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: secret }, { sb: await freePort(), orch: await freePort() });
    try {
      await waitFor('both services', async () => ((await answers(s.sessionBuddyUrl)) && (await answers(s.orchestratorUrl))) || undefined);
      const firstPid = pidOf(s.lines, 'session-buddy') as number;
      const orchestratorPid = pidOf(s.lines, 'orchestrator') as number;
      process.kill(firstPid, 'SIGKILL');
      await waitFor('the restart notice', () =>
        s.lines.find((l) => /^crossauth: session-buddy died \(signal SIGKILL\) after [\d.]+ s; restarting in 1 s/.test(l)),
      );
      const secondPid = await waitFor('a new session-buddy', () => pidOf(s.lines, 'session-buddy', 1));
      expect(secondPid).not.toBe(firstPid);
      await waitFor('session-buddy answering again', () => answers(s.sessionBuddyUrl));
      expect(pidOf(s.lines, 'orchestrator', 1)).toBeUndefined();
      expect(alive(orchestratorPid)).toBe(true);

      s.process.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(alive(secondPid)).toBe(false);
      expect(alive(orchestratorPid)).toBe(false);
    } finally {
      s.process.kill('SIGKILL');
    }
  });

  it('prints short readable lines on a terminal: no JSON, no Nest start-up chatter', async () => {
    const s = startSupervisor({ SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: secret }, { sb: await freePort(), orch: await freePort() }, true);
    const supervisorPid = () => {
      const pid = pidOf(s.lines, 'session-buddy');
      // The services' parent is start.mjs, inside the terminal `script` made.
      return pid === undefined ? undefined : Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    };
    try {
      const listening = (name: string) =>
        s.lines.find((l) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${name} +info +listening url=http://127\\.0\\.0\\.1:\\d+/mcp`).test(l));
      await waitFor('both services listening, readably', () => listening('session-buddy') && listening('orchestrator'));
      const services = s.lines.filter((l) => !l.startsWith('crossauth: '));
      expect(services.find((l) => l.trimStart().startsWith('{'))).toBeUndefined();
      expect(services.find((l) => /Mapped \{|dependencies initialized|Starting Nest application/.test(l))).toBeUndefined();
      expect(services.every((l) => /^\d\d:\d\d:\d\d (session-buddy|orchestrator) +(info|WARN|ERROR|debug) /.test(l))).toBe(true);
      process.kill(supervisorPid() as number, 'SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.lines.some((l) => / draining signal=SIGTERM/.test(l))).toBe(true);
    } finally {
      s.process.kill('SIGKILL');
    }
  });

  it('on a fresh install, prints a one-time link that creates the first admin account, and logs no token', async () => {
    const s = startSupervisor({ SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: secret }, { sb: await freePort(), orch: await freePort() });
    try {
      const link = await waitFor(
        'the first-account link',
        () =>
          s.lines.map((l) => /^crossauth: +(http:\/\/127\.0\.0\.1:\d+\/setup\/first-account\?token=([A-Za-z0-9_-]{43}))$/.exec(l)).find((m) => m !== null) ??
          undefined,
      );
      const [url, token] = [link[1] as string, link[2] as string];
      expect(s.lines.filter((l) => l.includes(token))).toHaveLength(1);
      const submit = (fields: Record<string, string>) =>
        fetch(`${s.orchestratorUrl}/setup/first-account`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, ...fields }).toString(),
        });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(await page.text()).toContain('Create the first account');
      expect((await fetch(`${s.orchestratorUrl}/setup/first-account?token=${'A'.repeat(43)}`)).status).toBe(410);
      // A refused password or a typo leaves the link usable; the account is made once.
      const short = await submit({ username: 'root', password: 'short', password_again: 'short' });
      expect(short.status).toBe(400);
      expect(await short.text()).toMatch(/at least 12/);
      expect((await submit({ username: 'root', password: 'a long passphrase', password_again: 'a long passphrase!' })).status).toBe(400);
      const made = await submit({ username: 'root', password: 'a long passphrase', password_again: 'a long passphrase' });
      expect(made.status).toBe(201);
      expect(await made.text()).toContain('Account root created');
      expect((await submit({ username: 'second', password: 'a long passphrase', password_again: 'a long passphrase' })).status).toBe(410);
      expect((await fetch(url)).status).toBe(410);
      expect(s.lines.filter((l) => l.includes(token))).toHaveLength(1);
    } finally {
      s.process.kill('SIGTERM');
      await s.exited;
    }
  });

  it('stops both, naming the service, when one cannot start', async () => {
    const s = startSupervisor(
      { SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: secret, ORCHESTRATOR_DOWNSTREAM_RETRIES: 'many' },
      { sb: await freePort(), orch: await freePort() },
    );
    try {
      expect(await s.exited).toBe(1);
      expect(s.lines.join('\n')).toMatch(/crossauth: orchestrator could not start \(exit code 1\); its log above says why\. Stopping both services\./);
      const sbPid = pidOf(s.lines, 'session-buddy') as number;
      expect(alive(sbPid)).toBe(false);
    } finally {
      s.process.kill('SIGKILL');
    }
  });
});

/** A fenced `sh` block of the README that contains `marker`, as written. */
function readmeBlock(marker: string): string {
  const readme = readFileSync(join(WORKSPACE_ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.includes(marker));
  if (!block) throw new Error(`README has no sh block with ${marker}`);
  return block;
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

describe("the README's client commands, run as written", () => {
  const secret = newSecret();
  let s: Supervisor;
  beforeAll(async () => {
    s = startSupervisor({ SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: secret }, { sb: await freePort(), orch: await freePort() });
    await waitFor('both services', async () => ((await answers(s.sessionBuddyUrl)) && (await answers(s.orchestratorUrl))) || undefined);
  });
  afterAll(async () => {
    s.process.kill('SIGTERM');
    await s.exited;
  });

  it('mints a token and calls the orchestrator with the MCP Inspector CLI (only the URL changed)', async () => {
    const block = readmeBlock('mcp-inspector');
    expect(block).toContain('http://127.0.0.1:8679/mcp');
    // CROSSAUTH_SECRET (read first) and ORCHESTRATOR_PORT (its issuer), as a user's .env would provide them.
    const run = await bash(block.replaceAll('http://127.0.0.1:8679', s.orchestratorUrl), {
      CROSSAUTH_SECRET: secret,
      ORCHESTRATOR_PORT: new URL(s.orchestratorUrl).port,
    });
    if (run.code !== 0) throw new Error(`README command failed (${run.code}):\n${run.err}`);
    const result = JSON.parse(run.out) as { structuredContent: { project: string; status: string; owner: string } };
    expect(result.structuredContent).toMatchObject({ project: 'demo', status: 'open', owner: 'alice' });
  }, 300_000);

  it('fails the same Inspector call when its Authorization header is left out', async () => {
    const block = readmeBlock('mcp-inspector')
      .replaceAll('http://127.0.0.1:8679', s.orchestratorUrl)
      .replace(/--header "Authorization: Bearer \$TOKEN" /, '');
    const run = await bash(block, { CROSSAUTH_SECRET: secret });
    expect(run.code).not.toBe(0);
    // The Inspector followed our 401 challenge and found it needs credentials it does not have.
    expect(`${run.out}${run.err}`).toContain('auth_required');
    expect(run.out).not.toContain('"session_id"');
  }, 300_000);
});
