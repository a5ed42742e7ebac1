import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { hashPassword, passwordMatches, passwordNeedsRehash, passwordProblem } from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import { SUBJECT_NAMES, type SubjectNames } from '../storage/subject-names';
import { USER_REPOSITORY, USER_ROLES, type UserRecord, type UserRepository, type UserRole } from './user.repository';

/** Lower-case letters, digits and . _ @ + -, starting with a letter or digit: a plain token subject. */
export const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;

/** What signing in through an upstream provider concluded. */
export type ExternalSignIn = { readonly user: UserRecord } | { readonly refused: 'username_taken' | 'not_a_username'; readonly username: string };

/** What a sign-in attempt learns: the account, or nothing (an unknown user and a wrong password read the same). */
export type SignInOutcome = { readonly user: UserRecord } | { readonly user?: undefined };

/**
 * Local accounts: people who sign in with a username and password. The
 * username is the subject of their tokens, so it may not be a registered
 * client's id (data belongs to the subject, and the two must never share it).
 */
@Injectable()
export class AccountsService implements OnModuleInit {
  private readonly logger = new Logger(AccountsService.name);
  /** Checked when the username is unknown, so that answer takes as long as a wrong password. */
  private decoy: Promise<string> | undefined;

  constructor(
    @Inject(USER_REPOSITORY) private readonly users: UserRepository,
    @Inject(SUBJECT_NAMES) private readonly subjects: SubjectNames,
  ) {}

  onModuleInit(): void {
    // Made at start, so the first unknown username is not answered faster than the rest.
    this.decoyHash().catch(() => undefined);
  }

  private decoyHash(): Promise<string> {
    return (this.decoy ??= hashPassword('decoy password, never anyone’s'));
  }

  async add(input: { username: string; password: string; role: UserRole }): Promise<UserRecord> {
    const username = validUsername(input.username);
    assertPassword(input.password);
    assertRole(input.role);
    if ((await this.subjects.holderOf(username)) === 'client')
      throw new ToolError(`username ${username} is a registered client's id; pick another`, 'user_exists');
    const now = Date.now();
    const user: UserRecord = {
      username,
      passwordHash: await hashPassword(input.password),
      role: input.role,
      createdAt: now,
      passwordChangedAt: now,
      signedOutAt: null,
      identityProvider: null,
      externalSubject: null,
    };
    if (!(await this.users.insert(user))) throw new ToolError(`user ${username} already exists`, 'user_exists');
    this.logger.log({ event: 'user_added', username, role: user.role });
    return user;
  }

  find(username: string): Promise<UserRecord | undefined> {
    return this.users.find(username.toLowerCase());
  }

  list(): Promise<UserRecord[]> {
    return this.users.list();
  }

  count(): Promise<number> {
    return this.users.count();
  }

  /**
   * Signs in a person an upstream provider vouched for: the account made for
   * their (provider, subject) on first sign-in, its role kept to what the
   * provider's claims map to now. A username already held by a local account,
   * a client or another provider's person is never merged into.
   */
  async signInExternal(identity: {
    readonly provider: string;
    readonly subject: string;
    readonly username: string;
    readonly role: UserRole;
  }): Promise<ExternalSignIn> {
    const known = await this.users.findExternal(identity.provider, identity.subject);
    if (known) {
      if (known.role !== identity.role) await this.users.updateRole(known.username, identity.role);
      return { user: { ...known, role: identity.role } };
    }
    const username = identity.username.toLowerCase();
    if (!USERNAME.test(username)) return { refused: 'not_a_username', username: identity.username };
    if ((await this.subjects.holderOf(username)) === 'client') return { refused: 'username_taken', username };
    const now = Date.now();
    const user: UserRecord = {
      username,
      // Not a hash: the account cannot sign in with a password, only through its provider.
      passwordHash: '!',
      role: identity.role,
      createdAt: now,
      passwordChangedAt: now,
      signedOutAt: null,
      identityProvider: identity.provider,
      externalSubject: identity.subject,
    };
    if (await this.users.insert(user)) {
      this.logger.log({ event: 'user_added', username, role: user.role, provider: identity.provider });
      return { user };
    }
    // Taken by someone else, or by this very person signing in twice at once.
    const raced = await this.users.findExternal(identity.provider, identity.subject);
    return raced ? { user: raced } : { refused: 'username_taken', username };
  }

  async setPassword(username: string, password: string): Promise<void> {
    assertPassword(password);
    const name = username.toLowerCase();
    if (!(await this.users.updatePassword(name, await hashPassword(password), Date.now()))) throw notFound(name);
    this.logger.log({ event: 'user_password_set', username: name });
  }

  async setRole(username: string, role: UserRole): Promise<void> {
    assertRole(role);
    const name = username.toLowerCase();
    if (!(await this.users.updateRole(name, role))) throw notFound(name);
    this.logger.log({ event: 'user_role_set', username: name, role });
  }

  /** Ends every browser sign-in of this person made until now. */
  async signOut(username: string, at = Date.now()): Promise<void> {
    const name = username.toLowerCase();
    if (!(await this.users.updateSignedOut(name, at))) throw notFound(name);
  }

  async remove(username: string): Promise<void> {
    const name = username.toLowerCase();
    if (!(await this.users.remove(name))) throw notFound(name);
    this.logger.warn({ event: 'user_removed', username: name });
  }

  /**
   * Checks a username and password. Unknown users cost the same KDF run as a
   * wrong password; a hash made with older parameters is replaced on success.
   */
  async signIn(username: string, password: string): Promise<SignInOutcome> {
    const name = username.toLowerCase();
    const user = USERNAME.test(name) ? await this.users.find(name) : undefined;
    // A person of an upstream provider has no password here: the same answer, in the same time, as an unknown user.
    if (!user || user.identityProvider !== null) {
      await passwordMatches(password, await this.decoyHash());
      return {};
    }
    if (!(await passwordMatches(password, user.passwordHash))) return {};
    if (passwordNeedsRehash(user.passwordHash)) await this.users.updatePassword(user.username, await hashPassword(password), user.passwordChangedAt);
    return { user };
  }
}

function validUsername(raw: string): string {
  const username = raw.toLowerCase();
  if (!USERNAME.test(username)) throw new ToolError('username: 1-64 letters, digits and . _ @ + -, starting with a letter or digit', 'invalid_argument');
  return username;
}

function assertPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new ToolError(`password: ${problem}`, 'invalid_argument');
}

function assertRole(role: string): asserts role is UserRole {
  if (!(USER_ROLES as readonly string[]).includes(role)) throw new ToolError(`role: one of ${USER_ROLES.join(', ')}`, 'invalid_argument');
}

const notFound = (username: string) => new ToolError(`no user ${username}`, 'user_not_found');
