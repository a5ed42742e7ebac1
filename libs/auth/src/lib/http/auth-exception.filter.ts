import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import { buildBearerChallenge, challengeBody } from './challenge';

/** Maps {@link AuthError} to `401`/`403` with the RFC 6750 challenge. */
@Catch(AuthError)
export class AuthExceptionFilter implements ExceptionFilter<AuthError> {
  constructor(@Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions) {}

  catch(error: AuthError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    response
      .status(error.httpStatus)
      .setHeader('WWW-Authenticate', buildBearerChallenge({ error, resourceMetadataUrl: this.options.resourceMetadataUrl }))
      .setHeader('Cache-Control', 'no-store')
      .json(challengeBody(error));
  }
}
