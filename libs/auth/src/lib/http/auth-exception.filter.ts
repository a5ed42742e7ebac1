import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import { AuthThrottledError } from '../throttle/auth-failure-throttle.service';
import { buildBearerChallenge, challengeBody } from './challenge';
import { ChallengeScopesService } from './challenge-scopes.service';

/** Maps {@link AuthError} to `401`/`403` with the RFC 6750 challenge, and throttling to `429`. */
@Catch(AuthError, AuthThrottledError)
export class AuthExceptionFilter implements ExceptionFilter<AuthError | AuthThrottledError> {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly challengeScopes: ChallengeScopesService,
  ) {}

  catch(error: AuthError | AuthThrottledError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof AuthThrottledError) {
      response
        .status(429)
        .setHeader('Retry-After', String(error.retryAfterSeconds))
        .json({ error: 'too_many_requests', error_description: error.message, reason: 'throttled' });
      return;
    }
    response
      .status(error.httpStatus)
      .setHeader('WWW-Authenticate', buildBearerChallenge({ error, scope: this.challengeScopes.scopes, resourceMetadataUrl: this.options.resourceMetadataUrl }))
      .setHeader('Cache-Control', 'no-store')
      .json(challengeBody(error));
  }
}
