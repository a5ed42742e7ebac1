import type { OAuthClientRepository } from '../oauth/oauth-client.repository';
import type { UserRepository } from '../accounts/user.repository';

/**
 * Client ids and usernames are both token subjects, and data belongs to the
 * subject: a client named like a person would read that person's data. Each
 * side asks this before it takes a name.
 */
export interface SubjectNames {
  /** Who already has `name` as a subject: a registered client, a local account, or nobody. */
  holderOf(name: string): Promise<'client' | 'user' | undefined>;
}

/** DI token for {@link SubjectNames}. */
export const SUBJECT_NAMES = Symbol('orchestrator:subject-names');

export function subjectNames(clients: OAuthClientRepository, users: UserRepository): SubjectNames {
  return {
    holderOf: async (name) => ((await clients.find(name)) ? 'client' : (await users.find(name.toLowerCase())) ? 'user' : undefined),
  };
}
