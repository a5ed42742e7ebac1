import { stringifyExactJson } from '@crossauth/auth';
import type { PostgresDatabaseService } from '@crossauth/storage';
import { toProjectMessage, type ProjectMessageRow } from './project-message-row';
import type { ProjectMessageRecord, ProjectMessageRepository } from './project-message.repository';

/** {@link ProjectMessageRepository} on PostgreSQL; the unique signature makes a replay a no-op insert. */
export class PostgresProjectMessageRepository implements ProjectMessageRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async insert(m: ProjectMessageRecord): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO project_messages (id, from_project, to_project, content, sent_at, received_at, received_from, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (signature) DO NOTHING`,
      [m.id, m.fromProject, m.toProject, stringifyExactJson(m.content), m.sentAt, m.receivedAt, m.receivedFrom, m.signature],
    );
    return rowCount === 1;
  }

  async list(toProject: string, limit: number): Promise<ProjectMessageRecord[]> {
    const { rows } = await this.db.query<ProjectMessageRow>(`SELECT * FROM project_messages WHERE to_project = $1 ORDER BY received_at DESC, id LIMIT $2`, [
      toProject,
      limit,
    ]);
    return rows.map(toProjectMessage);
  }
}
