import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { AuthContextService } from './auth-context.service';

/**
 * Opens each HTTP request's auth context before routing; the guard fills it
 * once the caller is known. Cheaper than an interceptor (no RxJS wrapping,
 * no per-request AsyncResource.bind), and every handler and service called
 * for the request can read the principal.
 */
@Injectable()
export class AuthContextMiddleware implements NestMiddleware {
  constructor(private readonly context: AuthContextService) {}

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    // Keep a caller's correlation id only if it is short and plain; never log arbitrary header bytes.
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', requestId);
    this.context.begin(next, requestId);
  }
}
