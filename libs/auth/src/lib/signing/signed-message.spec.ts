import { MemoryNonceStore } from './nonce-store';
import { pythonJsonDumps } from './python-json';
import { EnvelopeError, createEnvelope, signMessage, verifyEnvelope, verifyMessage } from './signed-message';

describe('pythonJsonDumps (json.dumps(..., sort_keys=True))', () => {
  it.each<[unknown, string]>([
    [{ action: 'test', timestamp: 123456 }, '{"action": "test", "timestamp": 123456}'],
    [{ b: [1, 2, { d: null, c: true }], a: false }, '{"a": false, "b": [1, 2, {"c": true, "d": null}]}'],
    [{ 'é': '😀', a: '\u007f\n"\\' }, '{"a": "\\u007f\\n\\"\\\\", "\\u00e9": "\\ud83d\\ude00"}'],
    [[1.5, 1e16, 1e-5, 0.1, -0, 1e22, 123.456, 1e-4, 2.5e-7], '[1.5, 1e+16, 1e-05, 0.1, -0.0, 1e+22, 123.456, 0.0001, 2.5e-07]'],
    [{}, '{}'],
    [[], '[]'],
    [12345678901234567890n, '12345678901234567890'],
    // Code-point order: U+FF61 sorts before U+1F600 in Python, after it in UTF-16 unit order.
    [{ '😀': 1, '｡': 2 }, '{"\\uff61": 2, "\\ud83d\\ude00": 1}'],
  ])('serialises %j like Python', (value, expected) => {
    expect(pythonJsonDumps(value)).toBe(expected);
  });

  it.each([NaN, Infinity, -Infinity])('refuses %p', (n) => {
    expect(() => pythonJsonDumps({ n })).toThrow(RangeError);
  });
});

describe('signMessage / verifyMessage', () => {
  it('matches the Python predecessor vector', () => {
    expect(signMessage({ action: 'test', timestamp: 123456 }, 'shared-secret-key')).toBe('f4241c41da9aae23c94e11f4224d6f3beab84eac1720a9c856ec9681782ff72b');
  });

  it.each([
    ['a changed message', { action: 'test', timestamp: 123457 }, 'f4241c41da9aae23c94e11f4224d6f3beab84eac1720a9c856ec9681782ff72b'],
    ['uppercase hex', { action: 'test', timestamp: 123456 }, 'F4241C41DA9AAE23C94E11F4224D6F3BEAB84EAC1720A9C856EC9681782FF72B'],
    ['a truncated signature', { action: 'test', timestamp: 123456 }, 'f4241c41'],
    ['trailing bytes', { action: 'test', timestamp: 123456 }, 'f4241c41da9aae23c94e11f4224d6f3beab84eac1720a9c856ec9681782ff72b00'],
  ])('refuses %s', (_n, message, signature) => {
    expect(verifyMessage(message, signature, 'shared-secret-key')).toBe(false);
  });
});

describe('message envelopes', () => {
  const secret = 'a-test-secret-that-is-long-enough-1234';
  const now = Date.parse('2026-11-22T12:00:00Z');
  const env = (over: Partial<{ to: string; at: Date }> = {}) =>
    createEnvelope({ from_project: 'orchestrator', to_project: over.to ?? 'session-buddy', content: { hello: 'wörld' } }, secret, over.at ?? new Date(now));
  const verify = (e: unknown, replays = new MemoryNonceStore(), nowMs = now) => {
    try {
      verifyEnvelope(e, { secrets: [secret], recipient: 'session-buddy', replays, nowMs });
      return 'ok';
    } catch (error) {
      return (error as EnvelopeError).reason;
    }
  };

  it('accepts a fresh envelope for us, with a timestamp carrying its offset', () => {
    const e = env();
    expect(e.message.timestamp).toBe('2026-11-22T12:00:00.000+00:00');
    expect(verify(e)).toBe('ok');
  });

  it.each([
    ['a missing timestamp', () => ({ ...env(), message: { ...env().message, timestamp: undefined } }), 'missing_timestamp'],
    ['one older than 300 s', () => env({ at: new Date(now - 301_000) }), 'stale'],
    ['one from the future beyond skew', () => env({ at: new Date(now + 31_000) }), 'from_the_future'],
    ['one for another project', () => env({ to: 'mahavishnu' }), 'wrong_recipient'],
    ['a tampered content', () => ({ ...env(), message: { ...env().message, content: 'changed' } }), 'bad_signature'],
    ['another algorithm', () => ({ ...env(), algorithm: 'HMAC-SHA1' }), 'malformed'],
    ['not an object', () => 'hello', 'malformed'],
  ])('refuses %s', (_n, make, reason) => {
    expect(verify(make())).toBe(reason);
  });

  it('refuses a replayed envelope inside the window', () => {
    const replays = new MemoryNonceStore();
    const e = env();
    expect(verify(e, replays)).toBe('ok');
    expect(verify(e, replays, now + 10_000)).toBe('replayed');
  });

  it('says the replay store is full rather than calling a new envelope a replay', () => {
    const replays = new MemoryNonceStore(1);
    expect(verify(env(), replays)).toBe('ok');
    expect(verify(env({ at: new Date(now + 1) }), replays, now + 1)).toBe('replay_store_full');
  });
});
