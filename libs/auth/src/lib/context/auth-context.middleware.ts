import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { requestIdOf } from '../http/request-id';
import { AuthContextService } from './auth-context.service';

/**
 * Opens each HTTP request's ambient auth context before routing; the guard
 * fills it once the caller is known. Installed only with the `requestContext`
 * option: on Node 20 any AsyncLocalStorage use turns on promise hooks for the
 * whole process, which costs every request (see docs/benchmarks.md). Without
 * it, the principal travels with the request (`@CurrentPrincipal()`, the MCP
 * handler argument) and nothing is ambient.
 */
@Injectable()
export class AuthContextMiddleware implements NestMiddleware {
  constructor(private readonly context: AuthContextService) {}

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    this.context.begin(next, requestIdOf(req, res));
  }
}
