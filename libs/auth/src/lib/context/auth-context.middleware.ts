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

  use(_req: unknown, _res: unknown, next: () => void): void {
    this.context.begin(next);
  }
}
