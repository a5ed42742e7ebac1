import type { KeyRing } from '@crossauth/auth';
import type { Request, Response } from 'express';
import type { UserRecord } from '../accounts/user.repository';
import type { AuthorizationRequest } from '../oauth/authorization-request';

/** One authorization request on its way through sign-in: what a login method sees and answers on. */
export interface LoginAttempt {
  readonly req: Request;
  readonly res: Response;
  /** The service secret's ring: cookies and CSRF tokens are derived from it. */
  readonly ring: KeyRing;
  /** The request's parameters as received, carried through the sign-in unchanged. */
  readonly params: URLSearchParams;
  readonly request: AuthorizationRequest;
}

/** A notice shown where sign-in begins again: why the person is asked once more. */
export interface LoginNotice {
  readonly message: string;
  readonly status: number;
}

/** Who came back from an outside provider, and the authorization request they set out with. */
export interface ReturnedLogin {
  readonly person: UserRecord;
  readonly params: URLSearchParams;
}

/**
 * How a person proves who they are at the authorization endpoint. The
 * endpoint owns the request, the browser session and consent; a login method
 * owns only the step between "not signed in" and "this person": a form of its
 * own (local accounts) or a round trip through another provider (OpenID).
 * Every method answers failures itself, in its own words, and returns a
 * person only when the sign-in succeeded.
 */
export interface LoginMethod {
  /** For logs and the audit line: `password`, `oidc`. */
  readonly name: string;
  /** Starts the sign-in: a page, or a redirect away. */
  begin(attempt: LoginAttempt, notice?: LoginNotice): Promise<void>;
  /** The method's own form posted back (`step=login`); undefined once a refusal has been answered. */
  submit?(attempt: LoginAttempt): Promise<UserRecord | undefined>;
  /** The provider's answer at `/oauth/callback`; undefined once a refusal has been answered. */
  complete?(req: Request, res: Response, ring: KeyRing): Promise<ReturnedLogin | undefined>;
}

/** DI token for the configured {@link LoginMethod}. */
export const LOGIN_METHOD = Symbol('orchestrator:login-method');
