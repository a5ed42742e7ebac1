export { McpServerModule } from './lib/mcp-server.module';
export { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './lib/mcp-options';
export { McpTool, type McpToolOptions } from './lib/mcp-tool.decorator';
export { McpToolRegistry, type ToolDefinition } from './lib/mcp-tool-registry.service';
export { McpServerFactory, toToolResult, type McpTransportKind } from './lib/mcp-server.factory';
export { McpSessionRegistry, ownerOf, shortSessionId, type McpSession } from './lib/mcp-session-registry.service';
export { McpStdioRunner } from './lib/mcp-stdio.runner';
export { ToolError } from './lib/tool-error';
export { resourceMetadataUrlFor } from './lib/protected-resource-metadata.controller';
