import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { Public } from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import type { Request, Response } from 'express';
import { readFormBody } from '../pages/form-body';
import { escapeHtml, htmlPage, sendPage } from '../pages/html-page';
import { FirstAccountService } from './first-account.service';

const MAX_FORM = 8 * 1024;
const GONE =
  'This link has been used, has expired, or an account exists already. Add accounts with <span class="where">crossauth user add</span>, or restart the orchestrator while it has no account for a new link.';

/** Loopback, by the connection itself: a forwarded-for header cannot make a remote caller local. */
function fromThisMachine(req: Request): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The first-account page the one-time link opens (see
 * {@link FirstAccountService}). Public, because nobody can sign in yet: the
 * link's token is the authentication, and it only works from this machine.
 */
@Public()
@Controller('setup')
export class FirstAccountController {
  constructor(private readonly firstAccount: FirstAccountService) {}

  @Get('first-account')
  async show(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!fromThisMachine(req)) return this.refuse(res, 403, 'The first account can only be created from the machine the orchestrator runs on.');
    const token = new URLSearchParams(req.url.split('?')[1] ?? '').get('token') ?? undefined;
    if (!(await this.firstAccount.valid(token))) return this.refuse(res, 410, GONE, true);
    sendPage(res, 200, form(token as string));
  }

  @Post('first-account')
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!fromThisMachine(req)) return this.refuse(res, 403, 'The first account can only be created from the machine the orchestrator runs on.');
    const fields = await readFormBody(req, MAX_FORM);
    if (!fields) return this.refuse(res, 400, 'The form could not be read.');
    const token = fields.get('token') ?? undefined;
    const username = (fields.get('username') ?? '').trim();
    const password = fields.get('password') ?? '';
    if (!(await this.firstAccount.valid(token))) return this.refuse(res, 410, GONE, true);
    if (password !== (fields.get('password_again') ?? '')) return sendPage(res, 400, form(token as string, username, 'The two passwords differ.'));
    try {
      const user = await this.firstAccount.create(token, username, password);
      if (!user) return this.refuse(res, 410, GONE, true);
      sendPage(
        res,
        201,
        htmlPage(
          'Account created',
          `<h1>Account ${escapeHtml(user.username)} created</h1>\n<p>It is an admin. Sign in with it from your MCP client; add more people with <span class="where">crossauth user add</span>.</p>`,
        ),
      );
    } catch (error) {
      if (!(error instanceof ToolError)) throw error;
      sendPage(res, 400, form(token as string, username, error.message));
    }
  }

  private refuse(res: Response, status: number, message: string, markup = false): void {
    sendPage(
      res,
      status,
      htmlPage('Cannot continue', `<h1>No account was created</h1>\n<p class="error" role="alert">${markup ? message : escapeHtml(message)}</p>`),
    );
  }
}

function form(token: string, username = '', error?: string): string {
  return htmlPage(
    'Create the first account',
    `<h1>Create the first account</h1>
<p>This orchestrator has no account yet. The one you create here is an admin: it may use every tool and add other people.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/setup/first-account">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" value="${escapeHtml(username)}" required autofocus>
<label for="password">Password (at least 12 characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" required>
<label for="password_again">The same password again</label>
<input id="password_again" name="password_again" type="password" autocomplete="new-password" required>
<button type="submit">Create the account</button>
</form>`,
  );
}
