import { BodyTooLargeError, readBody } from '@crossauth/mcp-server';
import type { Request } from 'express';

/** A page's form as posted (urlencoded, at most `maxBytes`); undefined when it is not one. */
export async function readFormBody(req: Request, maxBytes: number): Promise<URLSearchParams | undefined> {
  if ((req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() !== 'application/x-www-form-urlencoded') return undefined;
  try {
    return new URLSearchParams((await readBody(req, maxBytes)).toString('utf8'));
  } catch (error) {
    if (error instanceof BodyTooLargeError) return undefined;
    throw error;
  }
}
