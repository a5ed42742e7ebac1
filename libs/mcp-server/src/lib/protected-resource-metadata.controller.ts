import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Public } from '@crossauth/auth';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { McpToolRegistry } from './mcp-tool-registry.service';

/**
 * RFC 9728 §3.1: for a resource at `https://host/mcp` the metadata lives at
 * `https://host/.well-known/oauth-protected-resource/mcp`.
 */
export function resourceMetadataUrlFor(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** OAuth 2.0 Protected Resource Metadata (RFC 9728), which MCP clients read after a 401. */
@Public()
@Controller('.well-known')
export class ProtectedResourceMetadataController {
  constructor(
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
    private readonly tools: McpToolRegistry,
  ) {}

  @Get(['oauth-protected-resource', 'oauth-protected-resource/mcp'])
  @Header('Cache-Control', 'public, max-age=300')
  metadata(): Record<string, unknown> {
    const scopes = new Set<string>();
    for (const tool of this.tools.list()) tool.scopes.forEach((s) => scopes.add(s));
    return {
      resource: this.options.resourceUrl,
      authorization_servers: [...this.options.authorizationServers],
      scopes_supported: [...scopes].sort(),
      bearer_methods_supported: ['header'],
      resource_name: this.options.resourceName ?? this.options.name,
    };
  }
}
