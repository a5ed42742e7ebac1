import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY, REQUIRE_AUTH_KEY, REQUIRED_SCOPES_KEY } from '../auth.constants';
import { AuthError } from '../auth.errors';
import { AuthAuditService } from '../audit/auth-audit.service';
import { AuthContextService } from '../context/auth-context.service';
import { setAuthenticationOf } from '../http/auth-request';
import type { CredentialSource } from '../http/bearer';
import { RequestAuthenticatorService } from '../http/request-authenticator.service';
import { requestIdOf } from '../http/request-id';
import { AuthFailureThrottleService } from '../throttle/auth-failure-throttle.service';
import type { RequireAuthOptions } from '../decorators/require-auth.decorator';

/** What a route declares about auth; fixed once the app is built, so read once per handler. */
interface RouteAuth {
  readonly isPublic: boolean;
  readonly optional: boolean;
  readonly scopes: readonly string[];
}

/**
 * The caller's address as Express's `req.ip` would give it. Without an
 * `X-Forwarded-For` header that is the socket's address whatever the
 * trust-proxy setting, and Express would re-derive it on every read.
 */
function clientOf(request: IncomingMessage & { ip?: string }): string | undefined {
  return request.headers['x-forwarded-for'] === undefined ? (request.socket?.remoteAddress ?? request.ip) : request.ip;
}

function targetOf(request: IncomingMessage): string {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return `${request.method ?? 'HTTP'} ${query < 0 ? url : url.slice(0, query)}`;
}

/**
 * The global guard (registered as APP_GUARD by AuthModule): every route needs a
 * valid token unless it is marked `@Public()`. Scopes from `@RequiresScopes()`
 * are enforced here. Each decision is audited once.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticatorService,
    private readonly audit: AuthAuditService,
    private readonly throttle: AuthFailureThrottleService,
    private readonly context: AuthContextService,
  ) {}

  // Handler → controller class → what the route declares. A handler can serve
  // several controllers (inheritance), hence the second level.
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAuth>>();

  private routeAuth(context: ExecutionContext): RouteAuth {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.routes.get(handler);
    if (!byController) this.routes.set(handler, (byController = new WeakMap()));
    let route = byController.get(controller);
    if (!route) {
      const targets = [handler, controller];
      route = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
        optional: this.reflector.getAllAndOverride<RequireAuthOptions>(REQUIRE_AUTH_KEY, targets)?.optional ?? false,
        scopes: this.reflector.getAllAndOverride<string[]>(REQUIRED_SCOPES_KEY, targets) ?? [],
      };
      byController.set(controller, route);
    }
    return route;
  }

  // Synchronous when the caller is let in: only a refusal waits (on the failure throttle).
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const route = this.routeAuth(context);
    // Public routes never look at credentials; nothing to audit beyond access logs.
    if (route.isPublic) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<IncomingMessage & CredentialSource & { ip?: string }>();
    const requestId = requestIdOf(request, http.getResponse<ServerResponse>());
    const client = clientOf(request);
    this.throttle.assertNotBlocked(client);
    try {
      const authentication = this.authenticator.authenticate(request, route.optional);
      const { principal } = authentication;
      this.authenticator.authorize(principal, route.scopes);
      setAuthenticationOf(request, authentication);
      this.context.set({ principal, matchesPresentedToken: authentication.matchesPresentedToken, transport: 'http' });
      this.audit.record({
        outcome: 'allow',
        reason: principal.anonymous ? (this.authenticator.mode === 'disabled' ? 'auth_disabled' : 'anonymous') : 'ok',
        subject: principal.subject,
        issuer: principal.issuer,
        actor: principal.actor,
        ...(principal.actors && principal.actors.length > 1 ? { actors: principal.actors } : {}),
        target: targetOf(request),
        transport: 'http',
        client,
        requestId,
      });
      return true;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      this.audit.record({ outcome: 'deny', reason: error.reason, target: targetOf(request), transport: 'http', client, detail: error.detail, requestId });
      return this.throttle.recordFailure(client).then(() => {
        throw error;
      });
    }
  }
}
