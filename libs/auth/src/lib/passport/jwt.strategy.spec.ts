import { Controller, Get, Req, UseGuards, type INestApplication } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { accessClaims, craftToken, randomSecret } from '../../testing';
import { AuthModule } from '../auth.module';
import { Public } from '../decorators/public.decorator';
import type { Principal } from '../principal';
import { CrossauthPassportModule } from './crossauth-passport.module';
import { CROSSAUTH_JWT_STRATEGY } from './jwt.strategy';

/** Public to the global guard, so Passport's guard alone decides. */
@Public()
@Controller()
class PassportFixtureController {
  @UseGuards(AuthGuard(CROSSAUTH_JWT_STRATEGY))
  @Get('passport')
  passport(@Req() req: { user?: Principal }) {
    return { subject: req.user?.subject, scopes: req.user?.scopes };
  }
}

const secret = randomSecret();
const revoked = new Set<string>();

async function start(withPassport: boolean): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      // The way apps configure it: options from a factory, as from their config/.
      AuthModule.forRootAsync({
        useFactory: () => ({
          secret,
          issuer: 'orchestrator',
          allowedIssuers: ['orchestrator'],
          audiences: ['session-buddy'],
          revocationStore: { isRevoked: (p: Principal) => revoked.has(p.tokenId ?? '') },
        }),
      }),
      ...(withPassport ? [CrossauthPassportModule] : []),
    ],
    controllers: [PassportFixtureController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

const get = (url: string, token?: string) => fetch(`${url}/passport`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('@crossauth/auth/passport: JwtStrategy behind AuthGuard(CROSSAUTH_JWT_STRATEGY)', () => {
  let ctx: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    ctx = await start(true);
  });
  afterAll(() => ctx.app.close());

  it('admits a valid token and sets the typed principal as request.user', async () => {
    const res = await get(ctx.url, craftToken(accessClaims({ sub: 'dana', scope: 'read' }), secret));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ subject: 'dana', scopes: ['read'] });
  });

  it.each<[string, () => string | undefined]>([
    ['no token', () => undefined],
    ['a token signed with another secret', () => craftToken(accessClaims(), randomSecret(), { kid: undefined })],
    ['an unsigned alg:none token', () => craftToken(accessClaims(), secret, { alg: 'none' })],
    ['an expired token', () => craftToken(accessClaims({ iat: 1, exp: 2 }), secret)],
    ['a token for another audience', () => craftToken(accessClaims({ aud: 'elsewhere' }), secret)],
    ['a token of another issuer', () => craftToken(accessClaims({ iss: 'stranger' }), secret)],
  ])('refuses %s with 401', async (_name, token) => {
    expect((await get(ctx.url, token())).status).toBe(401);
  });

  it('refuses a revoked token, as the global guard would', async () => {
    const token = craftToken(accessClaims({ jti: 'passport-revoked' }), secret);
    expect((await get(ctx.url, token)).status).toBe(200);
    revoked.add('passport-revoked');
    expect((await get(ctx.url, token)).status).toBe(401);
  });
});
