import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { McpConfigurableModule } from './mcp-options';
import { McpAdmission } from './mcp-admission.service';
import { McpHttpController } from './mcp-http.controller';
import { McpLegacyHandler } from './mcp-legacy.handler';
import { McpMetricsService } from './mcp-metrics.service';
import { MetricsController } from './metrics.controller';
import { McpServerFactory } from './mcp-server.factory';
import { InFlightRequests } from './in-flight-requests.service';
import { McpSessionRegistry } from './mcp-session-registry.service';
import { McpStdioRunner } from './mcp-stdio.runner';
import { McpToolRegistry } from './mcp-tool-registry.service';
import { McpModernExchange } from './modern-exchange.service';
import { McpToolTable } from './mcp-tool-table.service';
import { ProtectedResourceMetadataController } from './protected-resource-metadata.controller';

/**
 * Exposes every `@McpTool()` method of the app's providers over Streamable
 * HTTP at `/mcp` (and over stdio through {@link McpStdioRunner}), behind
 * `@crossauth/auth`. Requires `AuthModule` to be imported by the app.
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [McpHttpController, ProtectedResourceMetadataController, MetricsController],
  providers: [
    McpAdmission,
    McpLegacyHandler,
    McpToolRegistry,
    McpToolTable,
    McpServerFactory,
    McpModernExchange,
    McpSessionRegistry,
    McpStdioRunner,
    McpMetricsService,
    InFlightRequests,
  ],
  exports: [McpToolRegistry, McpToolTable, McpServerFactory, McpModernExchange, McpSessionRegistry, McpStdioRunner, McpMetricsService, InFlightRequests],
})
export class McpServerModule extends McpConfigurableModule {}
