import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

interface TransportInternals {
  _streamMapping: Map<string, { resolveJson?: unknown }>;
  _requestToStreamMapping: Map<unknown, string>;
}

let warned = false;

/** The SDK 1.x web-standard transport or its Node wrapper. */
type AnyStreamableTransport = WebStandardStreamableHTTPServerTransport | StreamableHTTPServerTransport;

function internalsOf(transport: AnyStreamableTransport): TransportInternals | undefined {
  const wrapped = (transport as unknown as { _webStandardTransport?: Partial<TransportInternals> })._webStandardTransport;
  const inner = wrapped ?? (transport as unknown as Partial<TransportInternals>);
  if (inner?._streamMapping instanceof Map && inner._requestToStreamMapping instanceof Map) return inner as TransportInternals;
  return undefined;
}

/**
 * For the SDK 1.x baseline only (crossauth serves the 2025 era on SDK v2,
 * whose transport drops each answered stream itself).
 * In JSON-response mode the SDK 1.x server transport keeps one stream entry
 * per answered POST for the life of the session (typescript-sdk#2559): a
 * long-lived session grows without bound. Called after each POST is answered,
 * this drops the JSON entries no pending request still points at. It reaches
 * into private fields; if they are gone (an SDK that fixed or reshaped this),
 * it does nothing and says so once, and the spec beside it fails.
 * Not batched: each kept entry retains its answered Response, and keeping up
 * to 64 per session cost ~300 MiB of RSS at ~2,000 live sessions (soak).
 */
export function releaseAnsweredJsonStreams(transport: AnyStreamableTransport): void {
  const internals = internalsOf(transport);
  if (!internals) {
    if (!warned) process.stderr.write('bare baseline: cannot release answered JSON streams (SDK 1.x internals changed; typescript-sdk#2559)\n');
    warned = true;
    return;
  }
  const requests = internals._requestToStreamMapping;
  // Usually nothing is still pending (one request per POST), so no set is built for it.
  const pending = requests.size === 0 ? undefined : new Set(requests.values());
  for (const [streamId, entry] of internals._streamMapping) {
    if (entry.resolveJson !== undefined && !pending?.has(streamId)) internals._streamMapping.delete(streamId);
  }
}

/** Size of the transport's stream table, for tests; undefined when the internals are not there. */
export function openStreamCount(transport: AnyStreamableTransport): number | undefined {
  return internalsOf(transport)?._streamMapping.size;
}
