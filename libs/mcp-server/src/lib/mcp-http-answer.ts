import type { Logger } from '@nestjs/common';
import type { Response } from 'express';

/** An answer decided before it is written: status, JSON body (none for an empty one) and headers. */
export interface HttpAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A JSON-RPC error answered outside any request (`id: null`). */
export function jsonRpcError(status: number, code: number, message: string, headers?: Readonly<Record<string, string>>): HttpAnswer {
  return { status, body: { jsonrpc: '2.0', error: { code, message }, id: null }, ...(headers ? { headers } : {}) };
}

export function writeAnswer(res: Response, answer: HttpAnswer): void {
  if (answer.headers) for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (answer.body === undefined) res.status(answer.status).end();
  else res.status(answer.status).json(answer.body);
}

/** Runs a transport's handling; an error it throws becomes a logged 500, unless an answer has already started. */
export async function dispatch(res: Response, logger: Logger, handle: () => Promise<void>): Promise<void> {
  try {
    await handle();
  } catch (error) {
    logger.error({ event: 'mcp_transport_error', error: error instanceof Error ? error.message : String(error) });
    if (!res.headersSent) writeAnswer(res, jsonRpcError(500, -32603, 'Internal error'));
  }
}
