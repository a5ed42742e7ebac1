import type { ProjectMessageRecord } from './project-message.repository';

/** A `project_messages` row as both engines return it. */
export type ProjectMessageRow = {
  id: string;
  from_project: string;
  to_project: string;
  content: string;
  sent_at: number;
  received_at: number;
  received_from: string;
  signature: string;
};

export const toProjectMessage = (r: ProjectMessageRow): ProjectMessageRecord => ({
  id: r.id,
  fromProject: r.from_project,
  toProject: r.to_project,
  content: JSON.parse(r.content) as unknown,
  sentAt: r.sent_at,
  receivedAt: r.received_at,
  receivedFrom: r.received_from,
  signature: r.signature,
});
