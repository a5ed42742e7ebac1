import { SetMetadata } from '@nestjs/common';
import type { ZodObject, ZodRawShape } from 'zod';

export const MCP_TOOL_METADATA = 'crossauth:mcp-tool';

/** How a tool is declared on a provider method. */
export interface McpToolOptions {
  /** The MCP tool name (snake_case by convention; the predecessors' names are kept). */
  readonly name: string;
  readonly description: string;
  /** Zod object schema of the arguments; limits belong here. */
  readonly input?: ZodObject<ZodRawShape>;
  /** Scopes the caller needs. Empty means "any authenticated caller". */
  readonly scopes?: readonly string[];
  /**
   * Reachable without authentication. Tools are protected unless this is set:
   * forgetting it fails closed.
   */
  readonly public?: boolean;
  /**
   * Arguments reach the handler with every number as the caller wrote it
   * (`ExactNumber` from `@crossauth/auth`), for tools that check a signature
   * over them; `JSON.parse` would turn `85.0` into `85`. Over HTTP and stdio.
   */
  readonly exactNumbers?: boolean;
  readonly annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean };
}

/**
 * Declares a method of an `@Injectable()` provider as an MCP tool. The method
 * receives the validated input and the caller's typed `Principal`, never a token:
 * `async start(input: StartInput, principal: Principal)`.
 */
export const McpTool = (options: McpToolOptions): MethodDecorator => SetMetadata(MCP_TOOL_METADATA, options);

/**
 * The access rule of every `@McpTool()` on the given classes, sorted by tool
 * name: `"public"` or the required scopes. For permission snapshot specs.
 */
export function toolAccessOf(...classes: Array<abstract new (...args: never[]) => unknown>): Record<string, 'public' | string[]> {
  const rules: Array<[string, 'public' | string[]]> = [];
  for (const cls of classes) {
    const proto = cls.prototype as object;
    for (const key of Object.getOwnPropertyNames(proto)) {
      // The descriptor, not the property: reading a getter would run it.
      const method: unknown = Object.getOwnPropertyDescriptor(proto, key)?.value;
      const options = typeof method === 'function' ? (Reflect.getMetadata(MCP_TOOL_METADATA, method) as McpToolOptions | undefined) : undefined;
      if (options) rules.push([options.name, options.public ? 'public' : [...(options.scopes ?? [])]]);
    }
  }
  return Object.fromEntries(rules.sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * {@link toolAccessOf} for every class a Nest module provides, and the
 * modules it imports provide, so no tool can be left out of a snapshot.
 * Dynamic modules (`forRoot`) are skipped: tools live in feature modules.
 */
export function toolAccessOfModule(module: abstract new (...args: never[]) => unknown): Record<string, 'public' | string[]> {
  const classes = (list: unknown): (abstract new (...args: never[]) => unknown)[] =>
    ((list as unknown[] | undefined) ?? []).filter((p): p is abstract new (...args: never[]) => unknown => typeof p === 'function');
  const providers = new Set<abstract new (...args: never[]) => unknown>();
  const seen = new Set<unknown>();
  const visit = (m: abstract new (...args: never[]) => unknown): void => {
    if (seen.has(m)) return;
    seen.add(m);
    classes(Reflect.getMetadata('providers', m)).forEach((p) => providers.add(p));
    classes(Reflect.getMetadata('imports', m)).forEach(visit);
  };
  visit(module);
  return toolAccessOf(...providers);
}

const SCOPE_ORDER = ['public', 'read', 'write', 'delete', 'admin'];

/**
 * The Markdown table of tools by the scope they need, from
 * {@link toolAccessOfModule}: the README's Tools section is this text, and
 * each app's permission spec fails when the two differ.
 */
export function toolsTable(access: Record<string, 'public' | string[]>): string {
  const byScope = new Map<string, string[]>();
  for (const [name, rule] of Object.entries(access).sort(([a], [b]) => a.localeCompare(b))) {
    const scope = rule === 'public' ? 'public' : rule.join(' ');
    byScope.set(scope, [...(byScope.get(scope) ?? []), `\`${name}\``]);
  }
  const rank = (scope: string) => (SCOPE_ORDER.includes(scope) ? SCOPE_ORDER.indexOf(scope) : SCOPE_ORDER.length);
  const rows = [...byScope].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([scope, tools]) => `| ${scope} | ${tools.join(', ')} |`);
  return ['| scope | tools |', '| --- | --- |', ...rows].join('\n');
}
