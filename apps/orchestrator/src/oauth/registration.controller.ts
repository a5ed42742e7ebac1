import { Controller, Post, Req, Res } from '@nestjs/common';
import { AuthAuditService, Public } from '@crossauth/auth';
import { BodyTooLargeError, readBody } from '@crossauth/mcp-server';
import type { Request, Response } from 'express';
import { ClientRegistrationService, RegistrationError } from './client-registration.service';

const MAX_BODY = 16 * 1024;

/**
 * The registration endpoint (RFC 7591 §3), open to anyone, as MCP clients
 * expect: what it registers is bounded by {@link ClientRegistrationService}'s
 * policy, and a registered client still needs a person's sign-in and consent.
 */
@Public()
@Controller('oauth')
export class RegistrationController {
  constructor(
    private readonly registration: ClientRegistrationService,
    private readonly audit: AuthAuditService,
  ) {}

  @Post('register')
  async register(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (!this.registration.enabled)
      return void res
        .status(403)
        .json({ error: 'access_denied', error_description: 'dynamic registration is turned off here; an administrator registers clients' });
    try {
      if ((req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() !== 'application/json')
        throw new RegistrationError('invalid_client_metadata', 'the body must be application/json');
      let metadata: unknown;
      try {
        metadata = JSON.parse((await readBody(req, MAX_BODY)).toString('utf8'));
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw new RegistrationError('invalid_client_metadata', `the body exceeds ${MAX_BODY} bytes`);
        if (error instanceof SyntaxError) throw new RegistrationError('invalid_client_metadata', 'the body is not JSON');
        throw error;
      }
      const registered = await this.registration.register(metadata, req.ip);
      this.audit.record({
        outcome: 'allow',
        reason: 'client_registered',
        subject: String(registered['client_id']),
        target: 'POST /oauth/register',
        transport: 'http',
        client: req.ip,
      });
      res.status(201).json(registered);
    } catch (error) {
      if (!(error instanceof RegistrationError)) throw error;
      this.audit.record({ outcome: 'deny', reason: error.code, target: 'POST /oauth/register', transport: 'http', client: req.ip, detail: error.message });
      if (error.retryAfterSeconds !== undefined) {
        res.setHeader('Retry-After', String(error.retryAfterSeconds));
        return void res.status(429).json({ error: 'invalid_request', error_description: error.message });
      }
      res.status(400).json({ error: error.code, error_description: error.message });
    }
  }
}
