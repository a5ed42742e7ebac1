/** A verified cross-project message as stored. Times are ms since the epoch. */
export interface ProjectMessageRecord {
  readonly id: string;
  readonly fromProject: string;
  readonly toProject: string;
  /** As received: numbers may be `ExactNumber`s, stored as the sender wrote them. */
  readonly content: unknown;
  readonly sentAt: number;
  readonly receivedAt: number;
  /** The subject that delivered it. */
  readonly receivedFrom: string;
  readonly signature: string;
}

/** Storage for received project messages. */
export interface ProjectMessageRepository {
  /** Stores a message; resolves false if its signature was stored before (a replay). */
  insert(message: ProjectMessageRecord): Promise<boolean>;
  list(toProject: string, limit: number): Promise<ProjectMessageRecord[]>;
}

/** DI token for the {@link ProjectMessageRepository}. */
export const PROJECT_MESSAGE_REPOSITORY = Symbol('session-buddy:project-message-repository');
