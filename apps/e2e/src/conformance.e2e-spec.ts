import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuthModule } from '@crossauth/auth';
import { McpServerModule } from '@crossauth/mcp-server';
import { ConformanceFixtureTools } from './support/conformance-fixture.tools';
import { freePort, spawnApp, WORKSPACE_ROOT, type AppName, type RunningApp } from './support/spawn-app';
import { mint, newSecret } from './support/tokens';

/**
 * The MCP project's conformance suite (@modelcontextprotocol/conformance
 * 0.1.16, on Node 22) against both apps, with authentication required as in
 * production. The suite's client sends no credentials, so it talks to each
 * app through a front proxy that adds a bearer token (the gateway a
 * deployment would put there) and passes every other header, Host and Origin
 * included, through untouched.
 *
 * The tools-call scenarios call the suite's own fixture tools by name; they
 * run against libs/auth + libs/mcp-server serving those tools in-process
 * (the apps do not have them), behind the same kind of proxy.
 *
 * Its 0.1.16 server scenarios are all 2025-era; the 2026-07-28 exchanges are
 * covered by protocol-eras.e2e-spec.ts and the mcp-server parity spec.
 */
const APPLICABLE = ['server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams', 'dns-rebinding-protection'];

/**
 * Scenarios that call the suite's own fixture tools by name. The apps do not
 * have those tools, so these run against the libraries the apps are built on
 * (libs/auth + libs/mcp-server) serving the fixture tools, authentication and
 * scope checks included.
 */
const LIBRARY_FIXTURE = ['tools-call-simple-text', 'tools-call-error', 'tools-call-image', 'tools-call-audio', 'tools-call-embedded-resource', 'tools-call-mixed-content'];

/** Every other server scenario of the suite, and why it does not apply to these apps. */
const NOT_APPLICABLE: Record<string, string> = {
  'logging-set-level': 'no logging capability: the apps log to their operators, not to MCP clients',
  'tools-call-with-logging': 'no logging capability, as above',
  'completion-complete': 'no prompts or resource templates, so nothing to complete',
  'tools-call-with-progress': 'calls a fixture tool that reports progress; crossauth tools answer at once',
  'tools-call-sampling': 'needs a tool that asks the client to sample; crossauth tools never call back',
  'tools-call-elicitation': 'needs a tool that asks the client for input; crossauth tools never do',
  'elicitation-sep1034-defaults': 'elicitation, as above',
  'elicitation-sep1330-enums': 'elicitation, as above',
  'json-schema-2020-12': "looks for the suite's fixture tool json_schema_2020_12_tool (not in the active suite)",
  'server-sse-polling': 'SSE polling and resumption: the apps answer POSTs with JSON and keep no event store, and 2026-07-28 drops resumability (not in the active suite)',
  'resources-list': 'the apps have no resources',
  'resources-read-text': 'the apps have no resources',
  'resources-read-binary': 'the apps have no resources',
  'resources-templates-read': 'the apps have no resources',
  'resources-subscribe': 'the apps have no resources',
  'resources-unsubscribe': 'the apps have no resources',
  'prompts-list': 'the apps have no prompts',
  'prompts-get-simple': 'the apps have no prompts',
  'prompts-get-with-args': 'the apps have no prompts',
  'prompts-get-embedded-resource': 'the apps have no prompts',
  'prompts-get-with-image': 'the apps have no prompts',
};

const suite = JSON.parse(process.env['CROSSAUTH_TEST_CONFORMANCE'] ?? 'null') as { node: string; cli: string } | null ?? {
  node: join(WORKSPACE_ROOT, 'tools', 'conformance', 'node_modules', '.bin', 'node'),
  cli: join(WORKSPACE_ROOT, 'tools', 'conformance', 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js'),
};

type Check = { id: string; status: string; errorMessage?: string };

async function runScenario(url: string, scenario: string): Promise<Check[]> {
  const out = mkdtempSync(join(tmpdir(), `conformance-${scenario}-`));
  // The exit status says only whether everything passed; the checks file says what.
  await promisify(execFile)(suite.node, [suite.cli, 'server', '--url', url, '--scenario', scenario, '-o', out], { timeout: 60_000 }).catch(() => undefined);
  const [run] = readdirSync(out);
  if (!run) throw new Error(`conformance wrote no results for ${scenario}`);
  return JSON.parse(readFileSync(join(out, run, 'checks.json'), 'utf8')) as Check[];
}

/** Runs one scenario and expects at least one check to pass and none to fail. */
async function expectPassed(url: string, scenario: string): Promise<void> {
  const checks = await runScenario(url, scenario);
  expect(checks.length).toBeGreaterThan(0);
  expect(checks.filter((c) => c.status === 'FAILURE')).toEqual([]);
  expect(checks.some((c) => c.status === 'SUCCESS')).toBe(true);
}

/** Forwards everything to the app, adding the bearer token when the request has none. */
async function authenticatingProxy(port: number, target: number, token: string): Promise<Server> {
  const server = createServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: { ...req.headers, authorization: req.headers.authorization ?? `Bearer ${token}` } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
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
    env: (publicUrl) => ({ SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_PUBLIC_URL: publicUrl, SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'conformance-sb-')) }),
    token: mint(secret, { sub: 'conformance', iss: 'mahavishnu', scope: 'read write' }),
  },
  {
    name: 'orchestrator',
    env: (publicUrl) => ({ ORCHESTRATOR_AUTH_SECRET: secret, ORCHESTRATOR_PUBLIC_URL: publicUrl, ORCHESTRATOR_SESSION_BUDDY_URL: 'http://127.0.0.1:9/mcp' }),
    token: mint(secret, { sub: 'conformance', aud: 'orchestrator', iss: 'orchestrator', scope: 'read write' }),
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

  it.each(APPLICABLE)('passes %s', async (scenario) => {
    await expectPassed(url, scenario);
  }, 90_000);

  it('is refused by the app itself without the proxy: deny by default holds under the suite', async () => {
    const checks = await runScenario(app.mcpUrl, 'server-initialize');
    expect(checks).toEqual([expect.objectContaining({ status: 'FAILURE', errorMessage: expect.stringMatching(/invalid_token.*Token required/) })]);
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
        AuthModule.forRoot({ secret: librarySecret, issuer: 'orchestrator', allowedIssuers: ['orchestrator'], audiences: ['conformance-fixture'], resourceMetadataUrl: `${publicUrl}/.well-known/oauth-protected-resource/mcp` }),
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

  it.each([...LIBRARY_FIXTURE, 'tools-list'])('passes %s', async (scenario) => {
    await expectPassed(url, scenario);
  }, 90_000);

  it('is refused without the proxy: the fixture tools are not public', async () => {
    const checks = await runScenario(direct, 'tools-call-error');
    expect(checks).toEqual([expect.objectContaining({ status: 'FAILURE', errorMessage: expect.stringMatching(/invalid_token.*Token required/) })]);
  }, 90_000);

  it('fails the scenarios when the token lacks the scope the fixture tools need', async () => {
    const port = await freePort();
    const underScoped = await authenticatingProxy(port, Number(new URL(direct).port), mint(librarySecret, { sub: 'conformance', aud: 'conformance-fixture', scope: 'write' }));
    try {
      const checks = await runScenario(`http://127.0.0.1:${port}/mcp`, 'tools-call-simple-text');
      expect(checks).toEqual([expect.objectContaining({ status: 'FAILURE', errorMessage: expect.stringMatching(/insufficient_scope/) })]);
    } finally {
      await new Promise((resolve) => underScoped.close(resolve));
    }
  }, 90_000);
});

test('every server scenario of the suite is either run or named here with the reason it does not apply', async () => {
  const { stdout } = await promisify(execFile)(suite.node, [suite.cli, 'list']);
  const server = stdout.slice(stdout.indexOf('Server scenarios'), stdout.indexOf('Client scenarios'));
  const listed = [...server.matchAll(/^\s+- ([a-z0-9-]+)/gm)].map((m) => m[1] as string);
  expect(listed.length).toBeGreaterThan(20);
  const unaccounted = listed.filter((s) => !APPLICABLE.includes(s) && !LIBRARY_FIXTURE.includes(s) && !(s in NOT_APPLICABLE));
  expect(unaccounted).toEqual([]);
});
