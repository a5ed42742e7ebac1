import { stringifyExactJson } from '@crossauth/auth';
import type { PostgresDatabaseService } from '@crossauth/storage';
import type { ProjectMessageRecord, ProjectMessageRepository } from './project-message.repository';

type Row = { id: string; from_project: string; to_project: string; content: string; sent_at: number; received_at: number; received_from: string; signature: string };

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
    const { rows } = await this.db.query<Row>(`SELECT * FROM project_messages WHERE to_project = $1 ORDER BY received_at DESC, id LIMIT $2`, [toProject, limit]);
    return rows.map((r) => ({
      id: r.id,
      fromProject: r.from_project,
      toProject: r.to_project,
      content: JSON.parse(r.content) as unknown,
      sentAt: r.sent_at,
      receivedAt: r.received_at,
      receivedFrom: r.received_from,
      signature: r.signature,
    }));
  }
}
