import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ToolError } from '@crossauth/mcp-server';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { AccountsService } from './accounts.service';
import type { UserRecord } from './user.repository';

/** How long the first-account link works. */
export const FIRST_ACCOUNT_LINK_TTL_MS = 15 * 60_000;
/** Where, in the data directory, the link is written for `npm start` to show; never in a log. */
export const FIRST_ACCOUNT_LINK_FILE = 'first-account-link';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * A fresh install has no account, and nobody to sign in as. At start, with
 * no account, the orchestrator makes a one-time link (256 random bits, kept
 * only as a hash in this process, 15 minutes) that creates the first
 * account, as admin, from this machine only. The link goes into a file
 * (mode 0600) in the data directory, which `npm start` prints; the log says
 * only where it is. The link dies once used, when it expires, or as soon as
 * any account exists.
 */
@Injectable()
export class FirstAccountService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FirstAccountService.name);
  private pending: { readonly hash: Buffer; readonly expiresAt: number } | undefined;
  private readonly file: string;

  constructor(
    private readonly accounts: AccountsService,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {
    this.file = join(config.dataDir, FIRST_ACCOUNT_LINK_FILE);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.firstAccountLink || (await this.accounts.count()) > 0) return this.forget();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + FIRST_ACCOUNT_LINK_TTL_MS;
    this.pending = { hash: digest(token), expiresAt };
    mkdirSync(this.config.dataDir, { recursive: true });
    writeFileSync(this.file, `${this.config.publicUrl}/setup/first-account?token=${token}\n`, { mode: 0o600 });
    this.logger.warn({
      event: 'first_account_link_ready',
      file: this.file,
      expires_at: new Date(expiresAt).toISOString(),
      message: 'no account yet: the link in this file creates the first (admin) account, once, from this machine',
    });
  }

  /** Whether `token` is the live link's. */
  async valid(token: string | undefined, now = Date.now()): Promise<boolean> {
    const pending = this.pending;
    if (!pending || !token || now >= pending.expiresAt) return false;
    if (!timingSafeEqual(digest(token), pending.hash)) return false;
    if ((await this.accounts.count()) > 0) {
      this.forget();
      return false;
    }
    return true;
  }

  /** Creates the first account with the link, which then stops working; a refused username or password leaves the link usable. */
  async create(token: string | undefined, username: string, password: string): Promise<UserRecord | undefined> {
    if (!(await this.valid(token))) return undefined;
    // Taken with no await between the check and the taking: of two racing submissions, one gets it.
    const pending = this.pending;
    if (!pending) return undefined;
    this.pending = undefined;
    try {
      const user = await this.accounts.add({ username, password, role: 'admin' });
      this.forget();
      this.logger.log({ event: 'first_account_created', username: user.username });
      return user;
    } catch (error) {
      if (error instanceof ToolError && error.code === 'invalid_argument') this.pending = pending;
      throw error;
    }
  }

  private forget(): void {
    this.pending = undefined;
    rmSync(this.file, { force: true });
  }
}
