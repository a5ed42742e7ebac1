import { Logger } from '@nestjs/common';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

interface TransportInternals {
  _streamMapping: Map<string, { resolveJson?: unknown }>;
  _requestToStreamMapping: Map<unknown, string>;
}

const logger = new Logger('McpJsonResponses');
let warned = false;

function internalsOf(transport: StreamableHTTPServerTransport): TransportInternals | undefined {
  const inner = (transport as unknown as { _webStandardTransport?: Partial<TransportInternals> })._webStandardTransport;
  if (inner?._streamMapping instanceof Map && inner._requestToStreamMapping instanceof Map) return inner as TransportInternals;
  return undefined;
}

/**
 * In JSON-response mode the SDK 1.x server transport keeps one stream entry
 * per answered POST for the life of the session (typescript-sdk#2559): a
 * long-lived session grows without bound. Called after each POST is answered,
 * this drops the JSON entries no pending request still points at. It reaches
 * into private fields; if they are gone (an SDK that fixed or reshaped this),
 * it does nothing and says so once, and the spec beside it fails.
 * Not batched: each kept entry retains its answered Response, and keeping up
 * to 64 per session cost ~300 MiB of RSS at ~2,000 live sessions (soak).
 */
export function releaseAnsweredJsonStreams(transport: StreamableHTTPServerTransport): void {
  const internals = internalsOf(transport);
  if (!internals) {
    if (!warned) logger.warn({ event: 'sdk_internals_changed', detail: 'cannot release answered JSON streams; check typescript-sdk#2559' });
    warned = true;
    return;
  }
  const pending = new Set(internals._requestToStreamMapping.values());
  for (const [streamId, entry] of internals._streamMapping) {
    if (entry.resolveJson !== undefined && !pending.has(streamId)) internals._streamMapping.delete(streamId);
  }
}

/** Size of the transport's stream table, for tests; undefined when the internals are not there. */
export function openStreamCount(transport: StreamableHTTPServerTransport): number | undefined {
  return internalsOf(transport)?._streamMapping.size;
}
