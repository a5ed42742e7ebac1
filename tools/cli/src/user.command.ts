import { readSecretVariable, type Environment } from '@crossauth/auth';
import type { Io } from './cli';

/** Calls one of the orchestrator's admin tools: its JSON answer, or an Error saying why not. */
export type AdminCall = (tool: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>;

const PASSWORD_VARIABLE = 'CROSSAUTH_USER_PASSWORD';

/** The new password, from the environment or a file it names: never from the command line (shell history, process lists). */
function passwordFrom(env: Environment): string {
  const password = readSecretVariable(env, PASSWORD_VARIABLE);
  if (!password) throw new Error(`set ${PASSWORD_VARIABLE} (or ${PASSWORD_VARIABLE}_FILE) to the password; it is never read from the command line`);
  return password;
}

/** What ending a person's sign-ins did, in one line. */
function signedOut(outcome: Record<string, unknown>): string {
  const tokens = outcome['tokens'] as { resources?: Array<{ resource: string; status: string }> } | undefined;
  const where = (tokens?.resources ?? []).map((r) => `${r.resource}: ${r.status}`).join(', ');
  return `${String(outcome['grants_revoked'] ?? 0)} grant(s) revoked; live tokens revoked here${where ? ` and at ${where}` : ''}`;
}

/** `crossauth user add|list|remove|set-password|set-role|sign-out-everywhere`, through the orchestrator's admin tools. */
export async function userCommand(call: AdminCall, env: Environment, values: { role?: string }, [action, username]: string[], io: Io): Promise<number> {
  const run = call;
  const name = username ?? '';
  const named = (verb: string): string => {
    if (!username) throw new Error(`user ${verb} needs a username`);
    return username;
  };
  switch (action) {
    case 'add': {
      const user = await run('user_add', { username: named('add'), password: passwordFrom(env), role: values.role ?? 'developer' });
      io.out(`added ${String(user['username'])} (${String(user['role'])})`);
      return 0;
    }
    case 'list': {
      const { users } = (await run('user_list', {})) as { users: Array<Record<string, string>> };
      if (users.length === 0) io.out('no users');
      for (const u of users) io.out(`${(u['username'] ?? '').padEnd(24)} ${(u['role'] ?? '').padEnd(9)} since ${u['created_at']}`);
      return 0;
    }
    case 'set-password':
      await run('user_set_password', { username: named('set-password'), password: passwordFrom(env) });
      io.out(`password of ${name.toLowerCase()} changed`);
      return 0;
    case 'set-role': {
      if (!values.role) throw new Error('user set-role needs --role viewer|developer|admin');
      await run('user_set_role', { username: named('set-role'), role: values.role });
      io.out(`${name.toLowerCase()} is now ${values.role}`);
      return 0;
    }
    case 'remove': {
      const outcome = await run('user_remove', { username: named('remove') });
      io.out(`removed ${name.toLowerCase()}; ${signedOut(outcome)}`);
      return 0;
    }
    case 'sign-out-everywhere': {
      const outcome = await run('user_sign_out_everywhere', { username: named('sign-out-everywhere') });
      io.out(`${name.toLowerCase()} is signed out everywhere; ${signedOut(outcome)}`);
      return 0;
    }
    default:
      throw new Error('user needs add, list, remove, set-password, set-role or sign-out-everywhere');
  }
}
