import type { IncomingMessage } from 'node:http';

/** Thrown when a body exceeds the configured limit. */
export class BodyTooLargeError extends Error {}

/**
 * Reads a request body up to `limit` bytes. Stops reading (and rejects) as
 * soon as the limit is passed, so an oversized body costs at most `limit` bytes.
 */
export async function readBody(req: IncomingMessage & { rawBody?: Buffer }, limit: number): Promise<Buffer> {
  if (req.rawBody) {
    if (req.rawBody.length > limit) throw new BodyTooLargeError();
    return req.rawBody;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  req.rawBody = body;
  return body;
}
