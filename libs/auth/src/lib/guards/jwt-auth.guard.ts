import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY, REQUIRE_AUTH_KEY, REQUIRED_SCOPES_KEY } from '../auth.constants';
import { AuthError } from '../auth.errors';
import { AuthAuditService } from '../audit/auth-audit.service';
import { AuthContextService } from '../context/auth-context.service';
import { AUTHENTICATION_SLOT, type AuthenticatedRequest } from '../http/auth-request';
import type { CredentialSource } from '../http/bearer';
import { RequestAuthenticatorService } from '../http/request-authenticator.service';
import { requestIdOf } from '../http/request-id';
import { AuthFailureThrottleService } from '../throttle/auth-failure-throttle.service';
import type { RequireAuthOptions } from '../decorators/require-auth.decorator';

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

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const targets = [context.getHandler(), context.getClass()];
    // Public routes never look at credentials; nothing to audit beyond access logs.
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const requireAuth = this.reflector.getAllAndOverride<RequireAuthOptions>(REQUIRE_AUTH_KEY, targets);
    const scopes = this.reflector.getAllAndOverride<string[]>(REQUIRED_SCOPES_KEY, targets) ?? [];
    const http = context.switchToHttp();
    const request = http.getRequest<IncomingMessage & CredentialSource & AuthenticatedRequest & { ip?: string }>();
    const requestId = requestIdOf(request, http.getResponse<ServerResponse>());
    // Express derives `ip` on every read (trust-proxy rules); read it once.
    const client = request.ip;
    this.throttle.assertNotBlocked(client);
    try {
      const authentication = this.authenticator.authenticate(request, requireAuth?.optional ?? false);
      const { principal } = authentication;
      this.authenticator.authorize(principal, scopes);
      request[AUTHENTICATION_SLOT] = authentication;
      this.context.set({ principal, matchesPresentedToken: authentication.matchesPresentedToken, transport: 'http' });
      this.audit.record({
        outcome: 'allow',
        reason: principal.anonymous ? (this.authenticator.mode === 'disabled' ? 'auth_disabled' : 'anonymous') : 'ok',
        subject: principal.subject,
        issuer: principal.issuer,
        actor: principal.actor,
        target: targetOf(request),
        transport: 'http',
        client,
        requestId,
      });
      return true;
    } catch (error) {
      if (error instanceof AuthError) {
        this.audit.record({ outcome: 'deny', reason: error.reason, target: targetOf(request), transport: 'http', client, detail: error.detail, requestId });
        await this.throttle.recordFailure(client);
      }
      throw error;
    }
  }
}
