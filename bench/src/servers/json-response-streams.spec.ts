import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { openStreamCount, releaseAnsweredJsonStreams } from './json-response-streams';

// The SDK 1.x internals the release works on: stream id → entry (JSON ones carry
// resolveJson), and request id → stream id for requests still being answered.
function fakeInternals(answered: number, pending: number, sse: number) {
  const streams = new Map<string, { resolveJson?: unknown }>();
  const requests = new Map<unknown, string>();
  for (let i = 0; i < answered; i++) streams.set(`a${i}`, { resolveJson: () => undefined });
  for (let i = 0; i < pending; i++) {
    streams.set(`p${i}`, { resolveJson: () => undefined });
    requests.set(i, `p${i}`);
  }
  for (let i = 0; i < sse; i++) streams.set(`s${i}`, {});
  return { _streamMapping: streams, _requestToStreamMapping: requests };
}
// The SDK's Node wrapper keeps them one level down; the web-standard transport (ours) holds them itself.
const wrapped = (...counts: [number, number, number]) => ({ _webStandardTransport: fakeInternals(...counts) }) as unknown as StreamableHTTPServerTransport;
const direct = (...counts: [number, number, number]) => fakeInternals(...counts) as unknown as StreamableHTTPServerTransport;

describe('releaseAnsweredJsonStreams', () => {
  it.each([
    ['the Node wrapper', wrapped],
    ['a web-standard transport', direct],
  ])('drops answered JSON entries and keeps pending requests and event streams (%s)', (_name, make) => {
    const transport = make(10, 3, 2);
    releaseAnsweredJsonStreams(transport);
    expect(openStreamCount(transport)).toBe(5);
  });

  it('drops every answered JSON entry when no request is pending', () => {
    const transport = direct(7, 0, 1);
    releaseAnsweredJsonStreams(transport);
    expect(openStreamCount(transport)).toBe(1);
  });

  it('does nothing (and does not throw) when the SDK internals are not there', () => {
    const other = {} as StreamableHTTPServerTransport;
    expect(() => releaseAnsweredJsonStreams(other)).not.toThrow();
    expect(openStreamCount(other)).toBeUndefined();
  });
});
