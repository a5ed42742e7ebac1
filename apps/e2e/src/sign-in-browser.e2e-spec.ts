import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { addDesktopApp, authorizationRequest } from './support/authorization-request';
import { cli } from './support/cli';
import { postForm, redirectListener } from './support/redirect-listener';
import { WORKSPACE_ROOT, startPair, type RunningApp } from './support/spawn-app';
import { connect, newSecret, structured } from './support/tokens';

const PASSWORD = 'correct horse battery staple';
/** Debian's chromium (`.ci/run` installs it); another with CROSSAUTH_TEST_CHROMIUM. */
const CHROMIUM = process.env['CROSSAUTH_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
/** Kept as test artefacts: what a person sees. */
const SCREENSHOTS = join(WORKSPACE_ROOT, 'tmp', 'screenshots');

describe('a person signs in with a real browser (headless Chromium)', () => {
  const secret = newSecret();
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  let browser: Browser;
  let listener: Awaited<ReturnType<typeof redirectListener>>;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    ({ sessionBuddy, orchestrator } = await startPair(secret, 'browser'));
    const admin = (args: string[], env: Record<string, string> = {}) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret, ...env });
    expect((await admin(['user', 'add', 'alice'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
    expect(await addDesktopApp(orchestrator.mcpUrl, secret, sessionBuddy.mcpUrl, 'read write')).toBe(0);
    listener = await redirectListener();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    listener?.server.close();
    await orchestrator?.stop();
    await sessionBuddy?.stop();
  });

  it('signs in, approves, and the client redeems the code for a token session-buddy accepts', async () => {
    const { url, verifier } = authorizationRequest(orchestrator.url, {
      client_id: 'desktop-app',
      redirect_uri: `http://127.0.0.1:${listener.port}/callback`,
      state: 'browser-state',
      resource: sessionBuddy.mcpUrl,
      scope: 'read write',
    });
    const page = await browser.newPage();
    await page.goto(url);
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in-login.png') });
    expect(await page.textContent('h1')).toBe('Sign in to continue to Desktop App');
    await page.fill('#username', 'alice');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Desktop App wants to act for you');
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in-consent.png') });
    expect(await page.textContent('body')).toContain(`127.0.0.1:${listener.port}`);
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[value=approve]')]);
    const back = listener.received.find((u) => u.pathname === '/callback') as URL;
    expect(back.searchParams.get('state')).toBe('browser-state');
    expect(back.searchParams.get('iss')).toBe(orchestrator.url);

    const granted = await postForm(`${orchestrator.url}/oauth/token`, {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') as string,
      client_id: 'desktop-app',
      redirect_uri: listener.url,
      code_verifier: verifier,
    });
    expect(granted.status).toBe(200);
    const client = await connect(sessionBuddy.mcpUrl, ((await granted.json()) as { access_token: string }).access_token);
    expect(structured(await client.callTool({ name: 'list_sessions', arguments: {} }))).toMatchObject({ sessions: [] });
    await client.close();
  });

  it('refuses to be framed by another page (clickjacking)', async () => {
    const page = await browser.newPage();
    // The main document's load waits for the frame's, refused or not.
    await page.setContent(`<iframe id="f" src="${orchestrator.url}/oauth/authorize?client_id=nobody"></iframe>`, { waitUntil: 'load' });
    const frame = page.frames().find((f) => f.url().includes('/oauth/authorize'));
    // Our error page, framed, would read "cannot continue": Chromium refuses to render it (frame-ancestors 'none', X-Frame-Options).
    const body = frame ? await frame.content().catch(() => '') : '';
    expect(body).not.toContain('cannot continue');
    expect(body).not.toContain('Sign in');
  });
});
