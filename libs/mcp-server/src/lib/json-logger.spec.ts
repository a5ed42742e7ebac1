import { JsonLogger, redact, DEFAULT_REDACTED_KEYS } from './json-logger';

describe('JsonLogger redaction', () => {
  it('replaces configured keys at any depth, case-insensitively, and leaves the rest', () => {
    const keys = new Set(DEFAULT_REDACTED_KEYS);
    expect(
      redact({ event: 'x', Authorization: 'Bearer abc.def.ghi', nested: { token: 'abc', list: [{ secret: 's3cr3t', ok: 1 }] }, subject: 'alice' }, keys),
    ).toEqual({ event: 'x', Authorization: '[redacted]', nested: { token: '[redacted]', list: [{ secret: '[redacted]', ok: 1 }] }, subject: 'alice' });
  });

  it('writes no token, signature or secret into the actual log output', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      new JsonLogger(false, ['log']).log(
        {
          event: 'request',
          headers: { authorization: 'Bearer eyJhbGciOi.payload.sig', signature: 'sig1=:AAAA:' },
          args: { token: 'eyJ.x.y', project: 'p' },
          secret: 'hunter2hunter2',
        },
        'Spec',
      );
    } finally {
      spy.mockRestore();
    }
    const out = written.join('');
    expect(out).toContain('"project":"p"');
    for (const leaked of ['eyJhbGciOi', 'sig1=:AAAA:', 'eyJ.x.y', 'hunter2']) expect(out).not.toContain(leaked);
  });

  it('leaves Error objects intact so start-up failures stay readable', () => {
    const error = new Error('SESSION_BUDDY_SECRET is not an acceptable secret: it must be at least 32 characters');
    expect(redact(error, new Set(DEFAULT_REDACTED_KEYS))).toBe(error);
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a['self'] = a;
    expect(redact(a, new Set())).toEqual({ name: 'a', self: '[circular]' });
  });
});
