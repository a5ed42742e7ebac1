import type { IncomingMessage } from 'node:http';

/** Thrown when a body exceeds the configured limit. */
export class BodyTooLargeError extends Error {}

/**
 * Reads a request body up to `limit` bytes. Stops collecting (and rejects) as
 * soon as the limit is passed, so an oversized body costs at most `limit` bytes.
 * Plain `data`/`end` events: an async iterator per request costs measurably more.
 */
export function readBody(req: IncomingMessage & { rawBody?: Buffer }, limit: number): Promise<Buffer> {
  if (req.rawBody) return req.rawBody.length > limit ? Promise.reject(new BodyTooLargeError()) : Promise.resolve(req.rawBody);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.once('error', reject);
  });
}
