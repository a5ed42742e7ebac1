import { basename } from 'node:path';
import { ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';

const PROJECT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A project name: letters, digits, `.`, `_`, `-`; up to 100 characters; no leading punctuation. */
export const projectName = z.string().regex(PROJECT, 'project must be 1-100 characters of letters, digits, ".", "_" or "-", starting with a letter or digit');

/** The predecessor's way to name a project: its working directory. */
export const workingDirectory = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'working_directory must be an absolute path')
  .refine((p) => !p.includes('\0'), 'working_directory must not contain NUL');

/** Fields that select a project: `project`, or `working_directory` whose last segment names it. */
export const projectSelector = {
  project: projectName.optional(),
  working_directory: workingDirectory.optional(),
};

/** Resolves the project a call refers to, or throws a tool error naming the fields. */
export function resolveProject(input: { project?: string; working_directory?: string }): { project: string; workingDirectory: string | null } {
  if (input.project) return { project: input.project, workingDirectory: input.working_directory ?? null };
  if (input.working_directory) {
    const name = basename(input.working_directory.replace(/[\\/]+$/, ''));
    if (!PROJECT.test(name)) {
      throw new ToolError('working_directory: its last path segment is not a valid project name; pass project explicitly', 'invalid_argument');
    }
    return { project: name, workingDirectory: input.working_directory };
  }
  throw new ToolError('project or working_directory is required', 'invalid_argument');
}

/** ISO-8601 with an explicit offset, as events and filters require. */
export const isoTimestamp = z.iso.datetime({ offset: true });

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
