import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { hasScopes, ownerOf, type Principal } from '@crossauth/auth';
import { McpTool, ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';
import { iso, projectName } from '../sessions/project.schema';
import { REFLECTION_REPOSITORY, type ReflectionRecord, type ReflectionRepository } from './reflection.repository';

const tag = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,49}$/i, 'each tag must be 1-50 letters, digits, "_" or "-"');
const storeInput = z.object({
  content: z.string().trim().min(1).max(20_000),
  tags: z.array(tag).max(20).default([]),
  project: projectName.optional(),
});
const searchInput = z.object({
  query: z.string().trim().min(1).max(500),
  project: projectName.optional(),
  limit: z.number().int().min(1).max(50).default(10),
});
const statsInput = z.object({ project: projectName.optional() });
const deleteInput = z.object({ id: z.uuid() });

const view = (r: ReflectionRecord) => ({ id: r.id, project: r.project, content: r.content, tags: r.tags, created_at: iso(r.createdAt), owner: r.owner });

/** Lessons learned, searchable. Owned by the token's subject; `admin` reads and deletes all. */
@Injectable()
export class ReflectionsTools {
  constructor(@Inject(REFLECTION_REPOSITORY) private readonly reflections: ReflectionRepository) {}

  @McpTool({ name: 'store_reflection', description: 'Store a lesson learned (content, tags, optional project).', scopes: ['write'], input: storeInput })
  async store(input: z.infer<typeof storeInput>, principal: Principal) {
    const record: ReflectionRecord = {
      id: randomUUID(),
      owner: ownerOf(principal),
      project: input.project ?? null,
      content: input.content,
      tags: [...new Set(input.tags.map((t) => t.toLowerCase()))],
      createdAt: Date.now(),
    };
    await this.reflections.insert(record);
    return view(record);
  }

  @McpTool({
    name: 'quick_search',
    description: 'Full-text search of your reflections, best match first.',
    scopes: ['read'],
    input: searchInput,
    annotations: { readOnlyHint: true },
  })
  async quickSearch(input: z.infer<typeof searchInput>, principal: Principal) {
    const words = input.query.match(/[\p{L}\p{N}_]+/gu)?.slice(0, 32) ?? [];
    if (words.length === 0) throw new ToolError('query: must contain at least one letter or digit', 'invalid_argument');
    const results = await this.reflections.search({
      owner: hasScopes(principal, ['admin']) ? undefined : ownerOf(principal),
      project: input.project,
      words,
      limit: input.limit,
    });
    return { query: input.query, count: results.length, results: results.map((r) => ({ ...view(r), score: r.score })) };
  }

  @McpTool({
    name: 'reflection_stats',
    description: 'Counts of your reflections by project and by tag.',
    scopes: ['read'],
    input: statsInput,
    annotations: { readOnlyHint: true },
  })
  async stats(input: z.infer<typeof statsInput>, principal: Principal) {
    const stats = await this.reflections.stats(hasScopes(principal, ['admin']) ? undefined : ownerOf(principal), input.project);
    return { total: stats.total, by_project: stats.byProject, by_tag: stats.byTag };
  }

  @McpTool({
    name: 'delete_reflection',
    description: 'Delete one of your reflections by id.',
    scopes: ['delete'],
    input: deleteInput,
    annotations: { destructiveHint: true, idempotentHint: true },
  })
  async delete(input: z.infer<typeof deleteInput>, principal: Principal) {
    const found = await this.reflections.find(input.id);
    // Someone else's reflection reads as "not found": existence is not disclosed.
    if (!found || (found.owner !== ownerOf(principal) && !hasScopes(principal, ['admin']))) {
      throw new ToolError(`reflection ${input.id} not found`, 'not_found');
    }
    await this.reflections.delete(input.id);
    return { deleted: input.id };
  }
}
