/** A stored lesson. Times are milliseconds since the epoch. */
export interface ReflectionRecord {
  readonly id: string;
  readonly owner: string;
  readonly project: string | null;
  readonly content: string;
  readonly tags: string[];
  readonly createdAt: number;
}

export interface ReflectionSearch {
  /** Undefined searches every owner (admin). */
  readonly owner?: string;
  readonly project?: string;
  /** Plain words; implementations must not interpret query syntax from callers. */
  readonly words: string[];
  readonly limit: number;
}

export interface ReflectionStats {
  readonly total: number;
  readonly byProject: Record<string, number>;
  readonly byTag: Record<string, number>;
}

/** Storage for reflections. Each method is atomic and durable before it resolves. */
export interface ReflectionRepository {
  insert(reflection: ReflectionRecord): Promise<void>;
  /** Ranked best first; `score` is higher for better matches. */
  search(query: ReflectionSearch): Promise<Array<ReflectionRecord & { score: number }>>;
  stats(owner: string | undefined, project: string | undefined): Promise<ReflectionStats>;
  find(id: string): Promise<ReflectionRecord | undefined>;
  delete(id: string): Promise<boolean>;
}

/** DI token for the {@link ReflectionRepository}. */
export const REFLECTION_REPOSITORY = Symbol('session-buddy:reflection-repository');
