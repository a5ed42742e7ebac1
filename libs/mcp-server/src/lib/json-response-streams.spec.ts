import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { openStreamCount, releaseAnsweredJsonStreams } from './json-response-streams';

// The SDK 1.x internals the release works on: stream id → entry (JSON ones carry
// resolveJson), and request id → stream id for requests still being answered.
function fakeTransport(answered: number, pending: number, sse: number) {
  const streams = new Map<string, { resolveJson?: unknown }>();
  const requests = new Map<unknown, string>();
  for (let i = 0; i < answered; i++) streams.set(`a${i}`, { resolveJson: () => undefined });
  for (let i = 0; i < pending; i++) {
    streams.set(`p${i}`, { resolveJson: () => undefined });
    requests.set(i, `p${i}`);
  }
  for (let i = 0; i < sse; i++) streams.set(`s${i}`, {});
  return { _webStandardTransport: { _streamMapping: streams, _requestToStreamMapping: requests } } as unknown as StreamableHTTPServerTransport;
}

describe('releaseAnsweredJsonStreams', () => {
  it('drops answered JSON entries and keeps pending requests and event streams', () => {
    const transport = fakeTransport(10, 3, 2);
    releaseAnsweredJsonStreams(transport);
    expect(openStreamCount(transport)).toBe(5);
  });

  it('does nothing (and does not throw) when the SDK internals are not there', () => {
    const other = {} as StreamableHTTPServerTransport;
    expect(() => releaseAnsweredJsonStreams(other)).not.toThrow();
    expect(openStreamCount(other)).toBeUndefined();
  });
});
