import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ChallengeScopesService, type Principal } from '@crossauth/auth';
import { z, type ZodObject, type ZodRawShape } from 'zod';
import { MCP_TOOL_METADATA, type McpToolOptions } from './mcp-tool.decorator';

/** A discovered tool, ready to register on an McpServer. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly input: ZodObject<ZodRawShape>;
  readonly scopes: readonly string[];
  readonly isPublic: boolean;
  /** See {@link McpToolOptions.exactNumbers}. */
  readonly exactNumbers: boolean;
  readonly annotations?: McpToolOptions['annotations'];
  /** Calls the provider method with validated input and the caller. */
  readonly invoke: (input: Record<string, unknown>, principal: Principal) => Promise<unknown>;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Finds `@McpTool()` methods on every provider at start-up. Duplicate or
 * badly named tools stop the app: a typo must not silently shadow a tool.
 */
@Injectable()
export class McpToolRegistry implements OnModuleInit {
  private readonly logger = new Logger(McpToolRegistry.name);
  private readonly tools = new Map<string, ToolDefinition>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly challengeScopes: ChallengeScopesService,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const options = this.reflector.get<McpToolOptions | undefined>(MCP_TOOL_METADATA, method);
        if (options) this.add(options, (input, principal) => Promise.resolve(method.call(instance, input, principal)));
      }
    }
    this.logger.log({ event: 'mcp_tools_discovered', tools: this.accessMap() });
    // A 401 names every scope a tool here needs, as the metadata's scopes_supported does.
    this.challengeScopes.declare(this.list().flatMap((tool) => tool.scopes));
  }

  /** Registers a tool directly (used by discovery and by tests). */
  add(options: McpToolOptions, invoke: ToolDefinition['invoke']): void {
    if (!TOOL_NAME.test(options.name)) throw new Error(`MCP tool name "${options.name}" is not valid`);
    if (this.tools.has(options.name)) throw new Error(`MCP tool "${options.name}" is declared twice`);
    if (options.public && options.scopes?.length) {
      throw new Error(`MCP tool "${options.name}" is public and also requires scopes; pick one`);
    }
    const input = options.input ?? z.object({});
    if ('token' in input.shape) throw new Error(`MCP tool "${options.name}" must not declare a "token" argument; the module adds it`);
    this.tools.set(options.name, {
      name: options.name,
      description: options.description,
      input,
      scopes: options.scopes ?? [],
      isPublic: options.public ?? false,
      exactNumbers: options.exactNumbers ?? false,
      annotations: options.annotations,
      invoke,
    });
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  list(): ToolDefinition[] {
    return [...this.tools.values()];
  }

  /** Every tool's access rule, sorted by name: `"public"` or its scopes (`[]` = any authenticated caller). */
  accessMap(): Record<string, 'public' | string[]> {
    const out: Record<string, 'public' | string[]> = {};
    for (const tool of [...this.tools.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      out[tool.name] = tool.isPublic ? 'public' : [...tool.scopes];
    }
    return out;
  }
}
