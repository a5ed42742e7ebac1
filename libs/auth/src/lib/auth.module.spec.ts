import { ConsoleLogger, Controller, Get, type INestApplication, type LogLevel, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { accessClaims, craftToken, randomSecret } from '../testing';
import { AuthAuditService, type AuthDecision } from './audit/auth-audit.service';
import { AuthModule } from './auth.module';
import type { AuthModuleOptions } from './auth-options';
import { AuthContextService } from './context/auth-context.service';
import { CurrentPrincipal } from './decorators/current-principal.decorator';
import { Public } from './decorators/public.decorator';
import { RequireAuth } from './decorators/require-auth.decorator';
import { RequiresScopes } from './decorators/requires-scopes.decorator';
import type { Principal } from './principal';

@Controller()
class FixtureController {
  constructor(private readonly context: AuthContextService) {}

  @Get('undecorated')
  undecorated(@CurrentPrincipal() p: Principal) {
    return { subject: p.subject };
  }

  @Public()
  @Get('health')
  health() {
    return { ok: true };
  }

  @RequireAuth({ optional: true })
  @Get('maybe')
  maybe(@CurrentPrincipal() p: Principal) {
    return { subject: p.subject, anonymous: p.anonymous };
  }

  @RequiresScopes('write')
  @Get('write')
  write(@CurrentPrincipal() p: Principal) {
    return { subject: p.subject };
  }

  @Get('slow')
  async slow(@CurrentPrincipal() own: Principal) {
    // Yield several times so concurrent requests interleave, then read the context.
    for (let i = 0; i < 3; i++) await sleep(Math.random() * 5);
    return { subject: this.context.principal?.subject, own: own.subject };
  }
}

const secret = randomSecret();

async function start(overrides: Partial<AuthModuleOptions> = {}, logger: LoggerService | false = false) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthModule.forRoot({
        secret,
        issuer: 'orchestrator',
        allowedIssuers: ['orchestrator'],
        audiences: ['session-buddy'],
        resourceMetadataUrl: 'http://127.0.0.1/.well-known/oauth-protected-resource',
        ...overrides,
      }),
    ],
    controllers: [FixtureController],
  }).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const decisions: AuthDecision[] = [];
  app.get(AuthAuditService).onDecision((d) => decisions.push(d));
  return { app, url: url.replace('[::1]', '127.0.0.1'), decisions };
}

const bearer = (claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${craftToken(accessClaims(claims), secret)}` });

describe('AuthModule over HTTP', () => {
  let ctx: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    ctx = await start();
  });
  afterAll(() => ctx.app.close());

  it('protects a route with no decorator at all (deny by default)', async () => {
    const res = await fetch(`${ctx.url}/undecorated`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource"');
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'Token required', reason: 'missing' });
  });

  it('says why a presented token failed, in the challenge and the body', async () => {
    const res = await fetch(`${ctx.url}/undecorated`, { headers: bearer({ aud: 'orchestrator' }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token", error_description="wrong_audience: ');
    expect(((await res.json()) as { reason: string }).reason).toBe('wrong_audience');
  });

  it('answers 403 insufficient_scope naming the missing scope', async () => {
    const res = await fetch(`${ctx.url}/write`, { headers: bearer({ scope: 'read' }) });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(res.headers.get('www-authenticate')).toContain('scope="write"');
  });

  it('refuses a token in the query string even when the header is valid', async () => {
    const token = craftToken(accessClaims(), secret);
    const res = await fetch(`${ctx.url}/undecorated?access_token=${token}`, { headers: bearer() });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe('malformed');
  });

  it('lets a valid token through and hands the typed principal to the handler', async () => {
    const res = await fetch(`${ctx.url}/write`, { headers: bearer({ sub: 'dave', scope: 'write' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ subject: 'dave' });
  });

  it('lets @Public() routes through without a token', async () => {
    expect((await fetch(`${ctx.url}/health`)).status).toBe(200);
  });

  it('runs an optional route anonymously without a token, but refuses a bad one', async () => {
    expect(await (await fetch(`${ctx.url}/maybe`)).json()).toEqual({ subject: 'anonymous', anonymous: true });
    const bad = await fetch(`${ctx.url}/maybe`, { headers: bearer({ exp: 1 }) });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { reason: string }).reason).toBe('expired');
  });

  it('audits each decision once, with a reason code and never the token', async () => {
    ctx.decisions.length = 0;
    const headers = bearer({ sub: 'erin', scope: 'read' });
    await fetch(`${ctx.url}/write`, { headers });
    expect(ctx.decisions).toHaveLength(1);
    expect(ctx.decisions[0]).toMatchObject({ outcome: 'deny', reason: 'insufficient_scope', target: 'GET /write' });
    expect(JSON.stringify(ctx.decisions)).not.toContain(headers.authorization.slice(7));
  });

  it('tags each decision with the request id it answers with, and keeps a plain caller-supplied id', async () => {
    ctx.decisions.length = 0;
    const res = await fetch(`${ctx.url}/undecorated`);
    expect(ctx.decisions[0]?.requestId).toBe(res.headers.get('x-request-id'));
    const mine = await fetch(`${ctx.url}/undecorated`, { headers: { 'x-request-id': 'trace-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-123');
    const hostile = await fetch(`${ctx.url}/undecorated`, { headers: { 'x-request-id': 'a b <script>alert(1)</script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps no ambient context unless asked (requestContext off by default), yet each handler gets its own principal', async () => {
    const subjects = Array.from({ length: 50 }, (_, i) => `user-${i % 10}-${i}`);
    const results = await Promise.all(
      subjects.map(async (sub) => (await (await fetch(`${ctx.url}/slow`, { headers: bearer({ sub }) })).json()) as { subject?: string; own: string }),
    );
    expect(results.map((r) => r.own)).toEqual(subjects);
    expect(results.every((r) => r.subject === undefined)).toBe(true);
  });
});

describe('AuthModule with requestContext', () => {
  it('keeps each request in its own ambient auth context under interleaved concurrency', async () => {
    const ctx = await start({ requestContext: true });
    try {
      const subjects = Array.from({ length: 100 }, (_, i) => `user-${i % 10}-${i}`);
      const results = await Promise.all(
        subjects.map(async (sub) => (await (await fetch(`${ctx.url}/slow`, { headers: bearer({ sub }) })).json()) as { subject: string; own: string }),
      );
      expect(results.map((r) => r.subject)).toEqual(subjects);
      expect(results.map((r) => r.own)).toEqual(subjects);
    } finally {
      await ctx.app.close();
    }
  });
});

describe('AuthModule modes', () => {
  it('in optional mode, runs token-less calls anonymously on protected routes but still enforces scopes', async () => {
    const ctx = await start({ mode: 'optional' });
    try {
      expect(await (await fetch(`${ctx.url}/undecorated`)).json()).toEqual({ subject: 'anonymous' });
      expect((await fetch(`${ctx.url}/write`)).status).toBe(403);
      expect((await fetch(`${ctx.url}/undecorated`, { headers: { authorization: 'Bearer x.y.z' } })).status).toBe(401);
    } finally {
      await ctx.app.close();
    }
  });

  it('refuses to start disabled while a secret is configured', async () => {
    await expect(start({ mode: 'disabled' })).rejects.toThrow(/only allowed when/);
  });
});

interface AuditLine {
  readonly level: LogLevel;
  readonly message: unknown;
}

/** Keeps the audit lines a logger at the given levels prints. */
class CapturingLogger extends ConsoleLogger {
  readonly lines: AuditLine[] = [];

  constructor(levels: LogLevel[]) {
    super({ logLevels: levels });
  }

  protected override printMessages(messages: unknown[], _context?: string, logLevel: LogLevel = 'log'): void {
    for (const message of messages) if ((message as { event?: string }).event === 'auth_decision') this.lines.push({ level: logLevel, message });
  }
}

describe('AuthModule audit lines', () => {
  const run = async (levels: LogLevel[], logger: LoggerService & { lines: AuditLine[] } = new CapturingLogger(levels)) => {
    const ctx = await start({}, logger);
    try {
      expect((await fetch(`${ctx.url}/undecorated`, { headers: bearer({ sub: 'fay' }) })).status).toBe(200);
      expect((await fetch(`${ctx.url}/undecorated`)).status).toBe(401);
      return { lines: logger.lines, decisions: ctx.decisions };
    } finally {
      await ctx.app.close();
    }
  };

  it('prints allow and deny lines when the app logs at log level', async () => {
    const { lines } = await run(['error', 'warn', 'log']);
    expect(lines.map((l) => [l.level, (l.message as AuthDecision).outcome])).toEqual([
      ['log', 'allow'],
      ['warn', 'deny'],
    ]);
    expect(lines[0]?.message).toMatchObject({ subject: 'fay', reason: 'ok', target: 'GET /undecorated' });
  });

  it('at warn level prints only denials, yet listeners still see every decision', async () => {
    const { lines, decisions } = await run(['error', 'warn']);
    expect(lines.map((l) => [l.level, (l.message as AuthDecision).reason])).toEqual([['warn', 'missing']]);
    expect(decisions.map((d) => d.outcome)).toEqual(['allow', 'deny']);
  });

  it('prints every line through a logger that cannot say which levels it prints', async () => {
    const lines: AuditLine[] = [];
    const keep = (level: LogLevel) => (message: unknown) => void ((message as { event?: string }).event === 'auth_decision' && lines.push({ level, message }));
    await run([], { lines, log: keep('log'), warn: keep('warn'), error: keep('error') });
    expect(lines.map((l) => l.level)).toEqual(['log', 'warn']);
  });
});
