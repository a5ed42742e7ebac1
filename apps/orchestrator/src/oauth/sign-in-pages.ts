import type { Response } from 'express';
import { escapeHtml as escape, htmlPage as page, sendPage } from '../pages/html-page';
import type { AuthorizationRequest } from './authorization-request';

/** What each scope lets a client do, in the words a person approving it reads. */
const SCOPE_WORDS: Readonly<Record<string, string>> = {
  read: 'read your work sessions, reflections and messages',
  write: 'start and end work sessions, and store reflections',
  delete: 'delete your reflections',
  admin: 'administer the service: every tool, everyone’s data',
};

/** The carried request as hidden fields, so the next form re-submits exactly what was checked. */
function hidden(params: URLSearchParams, names: readonly string[]): string {
  return names.flatMap((name) => params.getAll(name).map((v) => `<input type="hidden" name="${escape(name)}" value="${escape(v)}">`)).join('\n');
}

/** Where the answer goes, as a person should see it: the host of an https or loopback redirect, the scheme of an app's. */
export function redirectTarget(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : `${url.protocol}// (an app on this device)`;
}

export function loginPage(params: URLSearchParams, names: readonly string[], request: AuthorizationRequest, csrf: string, error?: string): string {
  const client = request.client.name ?? request.client.id;
  return page(
    'Sign in',
    `<h1>Sign in to continue to ${escape(client)}</h1>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="step" value="login">
<input type="hidden" name="csrf" value="${escape(csrf)}">
${hidden(params, names)}
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function consentPage(
  params: URLSearchParams,
  names: readonly string[],
  request: AuthorizationRequest,
  username: string,
  scopes: readonly string[],
  csrf: string,
): string {
  const client = request.client.name ?? request.client.id;
  const items = scopes.map((s) => `<li><strong>${escape(s)}</strong>: ${escape(SCOPE_WORDS[s] ?? s)}</li>`).join('\n');
  return page(
    'Approve access',
    `<h1>${escape(client)} wants to act for you</h1>
<p>Signed in as <strong>${escape(username)}</strong>.</p>
<p>If you approve, <strong>${escape(client)}</strong> (client id <span class="where">${escape(request.client.id)}</span>) may use <span class="where">${escape(request.resource)}</span> as you, to:</p>
<ul>
${items}
</ul>
<p>The answer goes to <span class="where">${escape(redirectTarget(request.redirectUri))}</span>. Approve only if you started this from that application.</p>
<p>Your approval is remembered: the application keeps this access, renewing it without asking you, until you or an administrator revoke it.</p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="step" value="consent">
<input type="hidden" name="csrf" value="${escape(csrf)}">
${hidden(params, names)}
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function errorPage(message: string): string {
  return page(
    'Cannot continue',
    `<h1>This sign-in request cannot continue</h1>\n<p class="error" role="alert">${escape(message)}</p>\n<p>Go back to the application and start again.</p>`,
  );
}

/**
 * Sends one of the authorization pages. Their forms post here, and the answer
 * may then redirect to the client, so form-action allows its origin too.
 */
export function sendSignInPage(res: Response, status: number, html: string, redirectUri?: string): void {
  sendPage(res, status, html, redirectUri ? formTarget(redirectUri) : '');
}

function formTarget(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? ` ${url.protocol}//${url.hostname}:*` : ` ${url.protocol}`;
}
