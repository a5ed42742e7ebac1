import type Database from 'better-sqlite3';
import { stringifyExactJson } from '@crossauth/auth';
import type { SqliteDatabaseService } from '@crossauth/storage';
import { toProjectMessage, type ProjectMessageRow } from './project-message-row';
import type { ProjectMessageRecord, ProjectMessageRepository } from './project-message.repository';

/** {@link ProjectMessageRepository} on SQLite. */
export class SqliteProjectMessageRepository implements ProjectMessageRepository {
  private readonly insertRow: Database.Statement;
  private readonly listRows: Database.Statement;

  constructor(database: SqliteDatabaseService) {
    this.insertRow = database.db.prepare(
      `INSERT INTO project_messages (id, from_project, to_project, content, sent_at, received_at, received_from, signature)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signature) DO NOTHING`,
    );
    this.listRows = database.db.prepare(`SELECT * FROM project_messages WHERE to_project = ? ORDER BY received_at DESC, id LIMIT ?`);
  }

  async insert(m: ProjectMessageRecord): Promise<boolean> {
    const result = this.insertRow.run(m.id, m.fromProject, m.toProject, stringifyExactJson(m.content), m.sentAt, m.receivedAt, m.receivedFrom, m.signature);
    return result.changes === 1;
  }

  async list(toProject: string, limit: number): Promise<ProjectMessageRecord[]> {
    return (this.listRows.all(toProject, limit) as ProjectMessageRow[]).map(toProjectMessage);
  }
}
