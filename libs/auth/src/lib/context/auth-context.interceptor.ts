import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { principalOf } from '../http/auth-request';
import { AuthContextService } from './auth-context.service';

/** Runs each guarded HTTP handler inside its own auth context (AsyncLocalStorage). */
@Injectable()
export class AuthContextInterceptor implements NestInterceptor {
  constructor(private readonly context: AuthContextService) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const principal = execution.getType() === 'http' ? principalOf(execution.switchToHttp().getRequest<object>()) : undefined;
    if (!principal) return next.handle();
    return new Observable((subscriber) =>
      this.context.run({ principal, transport: 'http' }, () => next.handle().subscribe(subscriber)),
    );
  }
}
