import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuthModule } from '@crossauth/auth';
import { McpServerModule } from '@crossauth/mcp-server';
import { chromium } from 'playwright-core';
import { approveInPage } from './support/browser-sign-in';
import { cli } from './support/cli';
import { ConformanceFixtureTools } from './support/conformance-fixture.tools';
import { freePort, spawnApp, WORKSPACE_ROOT, type AppName, type RunningApp } from './support/spawn-app';
import { ISSUER, mint, newSecret } from './support/tokens';
import { waitFor } from './support/wait';

const PASSWORD = 'correct horse battery staple';
const RESOURCE = 'http://127.0.0.1:8678/mcp';
/** Debian's chromium (`.ci/run` installs it); another with CROSSAUTH_TEST_CHROMIUM. */
const CHROMIUM = process.env['CROSSAUTH_TEST_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * The MCP project's conformance suite (@modelcontextprotocol/conformance
 * 0.2.0-alpha.12, on Node 22) against both apps, with authentication required
 * as in production. The suite's client sends no credentials, so it talks to
 * each app through a front proxy that adds a bearer token (the gateway a
 * deployment would put there) and passes every other header, Host and Origin
 * included, through untouched. Scenarios run at the revision they name: the
 * 2025 era by default, and 2026-07-28 where the scenario has it.
 *
 * The tools-call scenarios call the suite's own fixture tools by name; they
 * run against libs/auth + libs/mcp-server serving those tools in-process
 * (the apps do not have them), behind the same kind of proxy.
 */
type Run = { scenario: string; specVersion?: '2026-07-28'; notTestable?: Record<string, string> };
const MODERN = '2026-07-28' as const;
const NO_PROMPTS_OR_RESOURCES = 'the apps have no prompts or resources, so they answer these lists with method-not-found';

/** Checks inside a run scenario that need fixture tools the apps do not have, each with why. */
const STATELESS_FIXTURES: Record<string, string> = {
  'sep-2575-server-rejects-undeclared-capability': "calls the suite's fixture tool test_missing_capability; crossauth tools need no client capability",
  'sep-2575-missing-capability-http-400': 'the same fixture tool, as above',
  'sep-2575-http-server-no-independent-requests-on-stream': 'calls a fixture tool that streams; crossauth tools answer at once with one JSON body',
  'sep-2575-server-no-log-without-loglevel': 'calls a fixture tool that logs; crossauth tools send no log notifications',
};

const APPLICABLE: Run[] = [
  { scenario: 'server-initialize' },
  { scenario: 'server-session-lifecycle' },
  { scenario: 'ping' },
  { scenario: 'tools-list' },
  { scenario: 'server-sse-multiple-streams' },
  { scenario: 'dns-rebinding-protection' },
  { scenario: 'tools-list', specVersion: MODERN },
  { scenario: 'server-stateless', specVersion: MODERN, notTestable: STATELESS_FIXTURES },
  { scenario: 'http-header-validation', specVersion: MODERN },
  {
    scenario: 'caching',
    specVersion: MODERN,
    notTestable: {
      'sep-2549-prompts-list-caching-hints': NO_PROMPTS_OR_RESOURCES,
      'sep-2549-resources-list-caching-hints': NO_PROMPTS_OR_RESOURCES,
      'sep-2549-resources-templates-list-caching-hints': NO_PROMPTS_OR_RESOURCES,
    },
  },
  { scenario: 'server-sse-multiple-streams', specVersion: MODERN },
  { scenario: 'dns-rebinding-protection', specVersion: MODERN },
];

/**
 * Scenarios that call the suite's own fixture tools by name. The apps do not
 * have those tools, so these run against the libraries the apps are built on
 * (libs/auth + libs/mcp-server) serving the fixture tools, authentication and
 * scope checks included, in both eras.
 */
const LIBRARY_FIXTURE = [
  'tools-call-simple-text',
  'tools-call-error',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
];

const NO_RESOURCES = 'the apps have no resources';
const NO_PROMPTS = 'the apps have no prompts';
/** Every other scenario of the suite, and why it does not apply to these apps. */
const NOT_APPLICABLE: Record<string, string> = {
  'logging-set-level': 'no logging capability: the apps log to their operators, not to MCP clients',
  'tools-call-with-logging': 'no logging capability, as above',
  'completion-complete': 'no prompts or resource templates, so nothing to complete',
  'tools-call-with-progress': 'calls a fixture tool that reports progress; crossauth tools answer at once',
  'tools-call-sampling': 'needs a tool that asks the client to sample; crossauth tools never call back',
  'tools-call-elicitation': 'needs a tool that asks the client for input; crossauth tools never do',
  'elicitation-sep1034-defaults': 'elicitation, as above',
  'elicitation-sep1330-enums': 'elicitation, as above',
  'json-schema-2020-12': "looks for the suite's fixture tool json_schema_2020_12_tool",
  'server-sse-polling': 'SSE polling and resumption: the apps answer POSTs with JSON and keep no event store, and 2026-07-28 drops resumability',
  'http-custom-header-server-validation': 'needs tools whose parameters carry x-mcp-header annotations; crossauth tools take their arguments in the body only',
  'sep-2164-resource-not-found': NO_RESOURCES,
  'resources-list': NO_RESOURCES,
  'resources-read-text': NO_RESOURCES,
  'resources-read-binary': NO_RESOURCES,
  'resources-templates-read': NO_RESOURCES,
  'resources-subscribe': NO_RESOURCES,
  'resources-unsubscribe': NO_RESOURCES,
  'prompts-list': NO_PROMPTS,
  'prompts-get-simple': NO_PROMPTS,
  'prompts-get-with-args': NO_PROMPTS,
  'prompts-get-embedded-resource': NO_PROMPTS,
  'prompts-get-with-image': NO_PROMPTS,
};
/** Whole families of scenarios for features crossauth does not implement, by prefix. */
const NOT_APPLICABLE_FAMILIES: Record<string, string> = {
  'tasks-': 'the tasks extension (io.modelcontextprotocol/tasks): crossauth tools finish within the call',
  'input-required-result-': 'multi-round tool calls (SEP-2322): crossauth tools never ask the client for input',
  'sep-2640-skills-': 'the skills extension (SEP-2640): the apps serve tools only',
};
const notApplicable = (scenario: string): string | undefined =>
  NOT_APPLICABLE[scenario] ?? Object.entries(NOT_APPLICABLE_FAMILIES).find(([prefix]) => scenario.startsWith(prefix))?.[1];

const suite = (JSON.parse(process.env['CROSSAUTH_TEST_CONFORMANCE'] ?? 'null') as { node: string; cli: string } | null) ?? {
  node: join(WORKSPACE_ROOT, 'tools', 'conformance', 'node_modules', '.bin', 'node'),
  cli: join(WORKSPACE_ROOT, 'tools', 'conformance', 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js'),
};

type Check = { id: string; status: string; errorMessage?: string };

async function runSuite(args: string[], scenario: string): Promise<Check[]> {
  const out = mkdtempSync(join(tmpdir(), `conformance-${scenario}-`));
  // The exit status says only whether everything passed; the checks file says what.
  await promisify(execFile)(suite.node, [suite.cli, ...args, '--scenario', scenario, '-o', out], { timeout: 60_000 }).catch(() => undefined);
  const [run] = readdirSync(out);
  if (!run) throw new Error(`conformance wrote no results for ${scenario}`);
  return JSON.parse(readFileSync(join(out, run, 'checks.json'), 'utf8')) as Check[];
}

const runScenario = (url: string, scenario: string, specVersion?: string) =>
  runSuite(['server', '--url', url, ...(specVersion ? ['--spec-version', specVersion] : [])], scenario);

/** Runs one scenario and expects at least one check to pass and none to fail but those named not testable. */
async function expectPassed(url: string, { scenario, specVersion, notTestable = {} }: Run): Promise<void> {
  const checks = await runScenario(url, scenario, specVersion);
  expect(checks.length).toBeGreaterThan(0);
  expect(checks.filter((c) => c.status === 'FAILURE' && !(c.id in notTestable))).toEqual([]);
  expect(checks.some((c) => c.status === 'SUCCESS')).toBe(true);
}

/**
 * The scenario failed because the server refused it: one failure, with that
 * reason, and nothing passed but the suite's check that our refusals are
 * well-formed JSON-RPC.
 */
function expectRefused(checks: Check[], reason: RegExp): void {
  expect(checks.filter((c) => c.status === 'FAILURE')).toEqual([expect.objectContaining({ errorMessage: expect.stringMatching(reason) })]);
  expect(checks.filter((c) => c.status === 'SUCCESS').map((c) => c.id)).toEqual(['wire-schema-valid']);
}

/** Forwards everything to the app, adding the bearer token when the request has none. */
async function authenticatingProxy(port: number, target: number, token: string): Promise<Server> {
  const server = createServer((req, res) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: req.headers.authorization ?? `Bearer ${token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.headersSent || res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

const secret = newSecret();
const apps: Array<{ name: AppName; env: (publicUrl: string) => Record<string, string>; token: string }> = [
  {
    name: 'session-buddy',
    env: (publicUrl) => ({
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_PUBLIC_URL: publicUrl,
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'conformance-sb-')),
    }),
    token: mint(secret, { sub: 'conformance', iss: 'mahavishnu', scope: 'read write' }),
  },
  {
    name: 'orchestrator',
    env: (publicUrl) => ({
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_PUBLIC_URL: publicUrl,
      ORCHESTRATOR_ISSUER: ISSUER,
      ORCHESTRATOR_SESSION_BUDDY_URL: 'http://127.0.0.1:9/mcp',
    }),
    token: mint(secret, { sub: 'conformance', aud: 'orchestrator', scope: 'read write' }),
  },
];

describe.each(apps)('MCP conformance suite against $name (authentication required)', ({ name, env, token }) => {
  let app: RunningApp;
  let proxy: Server;
  let url: string;

  beforeAll(async () => {
    const proxyPort = await freePort();
    url = `http://127.0.0.1:${proxyPort}/mcp`;
    app = await spawnApp(name, env(`http://127.0.0.1:${proxyPort}`));
    proxy = await authenticatingProxy(proxyPort, app.port, token);
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await app.stop();
  });

  it.each(APPLICABLE.map((run) => [`${run.scenario}${run.specVersion ? ` at ${run.specVersion}` : ''}`, run] as const))(
    'passes %s',
    async (_name, run) => {
      await expectPassed(url, run);
    },
    90_000,
  );

  it('is refused by the app itself without the proxy: deny by default holds under the suite', async () => {
    const checks = await runScenario(app.mcpUrl, 'server-initialize');
    expectRefused(checks, /invalid_token.*Token required/);
  }, 90_000);
});

describe("MCP conformance suite against the libraries the apps are built on, with the suite's fixture tools (authentication required)", () => {
  const librarySecret = newSecret();
  let app: INestApplication;
  let proxy: Server;
  let url: string;
  let direct: string;

  beforeAll(async () => {
    const proxyPort = await freePort();
    const publicUrl = `http://127.0.0.1:${proxyPort}`;
    url = `${publicUrl}/mcp`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          secret: librarySecret,
          issuer: ISSUER,
          allowedIssuers: [ISSUER],
          audiences: ['conformance-fixture'],
          resourceMetadataUrl: `${publicUrl}/.well-known/oauth-protected-resource/mcp`,
        }),
        McpServerModule.forRoot({ name: 'conformance-fixture', version: '1.0.0', resourceUrl: url, authorizationServers: ['http://127.0.0.1:9/'] }),
      ],
      providers: [ConformanceFixtureTools],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false, bodyParser: false });
    await app.listen(0, '127.0.0.1');
    const port = Number(new URL(await app.getUrl()).port);
    direct = `http://127.0.0.1:${port}/mcp`;
    // The fixture tools need `read`; the gateway's token carries exactly that.
    proxy = await authenticatingProxy(proxyPort, port, mint(librarySecret, { sub: 'conformance', aud: 'conformance-fixture', scope: 'read' }));
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await app.close();
  });

  it.each(
    [...LIBRARY_FIXTURE, 'tools-list'].flatMap(
      (scenario) =>
        [
          [scenario, { scenario }],
          [`${scenario} at ${MODERN}`, { scenario, specVersion: MODERN }],
        ] as const,
    ),
  )(
    'passes %s',
    async (_name, run) => {
      await expectPassed(url, run);
    },
    90_000,
  );

  it('is refused without the proxy: the fixture tools are not public', async () => {
    const checks = await runScenario(direct, 'tools-call-error');
    expectRefused(checks, /invalid_token.*Token required/);
  }, 90_000);

  it('fails the scenarios when the token lacks the scope the fixture tools need', async () => {
    const port = await freePort();
    const underScoped = await authenticatingProxy(
      port,
      Number(new URL(direct).port),
      mint(librarySecret, { sub: 'conformance', aud: 'conformance-fixture', scope: 'write' }),
    );
    try {
      const checks = await runScenario(`http://127.0.0.1:${port}/mcp`, 'tools-call-simple-text');
      expectRefused(checks, /insufficient_scope/);
    } finally {
      await new Promise((resolve) => underScoped.close(resolve));
    }
  }, 90_000);
});

describe('MCP conformance suite against the orchestrator as authorization server', () => {
  let orchestrator: RunningApp;
  beforeAll(async () => {
    orchestrator = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_SESSION_BUDDY_URL: 'http://127.0.0.1:9/mcp',
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'conformance-as-')),
    });
  });
  afterAll(() => orchestrator.stop());

  it("serves RFC 8414 metadata every one of the suite's checks accepts", async () => {
    const checks = await runSuite(['authorization', '--url', orchestrator.url], 'authorization-server-metadata-endpoint');
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`)).toEqual([]);
  }, 90_000);

  it('passes the authorization-code grant, a person signing in and approving in headless Chromium', async () => {
    const port = await freePort();
    const admin = (args: string[], env: Record<string, string> = {}) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret, ...env });
    expect((await admin(['user', 'add', 'conformance-person'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
    expect(
      (
        await admin([
          'client',
          'add',
          'conformance-suite',
          '--public',
          '--name',
          'Conformance suite',
          '--scope',
          'read',
          '--resource',
          RESOURCE,
          '--redirect-uri',
          `http://127.0.0.1:${port}/callback`,
        ])
      ).code,
    ).toBe(0);
    const out = mkdtempSync(join(tmpdir(), 'conformance-authorization-'));
    // Every authorization scenario, in the suite's order: the code grant reads the metadata the first one fetched.
    const child = spawn(suite.node, [
      suite.cli,
      'authorization',
      '--url',
      orchestrator.url,
      '--client-id',
      'conformance-suite',
      '--resource',
      RESOURCE,
      '--port',
      String(port),
      '-o',
      out,
    ]);
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const url = await waitFor('the suite asking for a sign-in', () => lines.find((l) => l.startsWith(`${orchestrator.url}/oauth/authorize?`)), 60_000);
      await approveInPage(await browser.newPage(), url, 'conformance-person', PASSWORD, 'Conformance suite');
      await exited;
    } finally {
      await browser.close();
      child.kill();
    }
    const checks = readdirSync(out).flatMap((run) => JSON.parse(readFileSync(join(out, run, 'checks.json'), 'utf8')) as Check[]);
    expect(checks.find((c) => c.id === 'authorization-code-grant')).toMatchObject({ status: 'SUCCESS' });
    expect(checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`)).toEqual([]);
  }, 120_000);
});

test('every scenario of the suite (server and authorization server) is either run or named here with the reason it does not apply', async () => {
  const { stdout } = await promisify(execFile)(suite.node, [suite.cli, 'list']);
  const section = (from: string, to?: string) => stdout.slice(stdout.indexOf(from), to ? stdout.indexOf(to) : undefined);
  const names = (text: string) => [...text.matchAll(/^\s+- ([a-z0-9-]+)/gm)].map((m) => m[1] as string);
  const server = names(section('Server scenarios', 'Client scenarios'));
  const authorization = names(section('Authorization server scenarios'));
  expect(server.length).toBeGreaterThan(40);
  expect(authorization).toEqual(expect.arrayContaining(['authorization-server-metadata-endpoint', 'authorization-code-grant']));
  const run = new Set([...APPLICABLE.map((r) => r.scenario), ...LIBRARY_FIXTURE, 'authorization-server-metadata-endpoint', 'authorization-code-grant']);
  const unaccounted = [...server, ...authorization].filter((s) => !run.has(s) && notApplicable(s) === undefined);
  expect(unaccounted).toEqual([]);
});
