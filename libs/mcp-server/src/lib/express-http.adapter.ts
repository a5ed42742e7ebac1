import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * A constructor that runs `base`'s constructor on an object born with
 * `prototype`. Node's IncomingMessage and ServerResponse are ES5 constructor
 * functions, so they can initialise an object they did not allocate.
 * (Reflect.construct with a new target does the same for classes, but measured
 * slower than plain Express in a toy app: docs/benchmarks.md.)
 */
function bornWithPrototype<T extends object>(base: T, prototype: object): T {
  const init = base as unknown as (this: object, ...args: unknown[]) => void;
  function Constructor(this: object, ...args: unknown[]): void {
    init.apply(this, args);
  }
  Constructor.prototype = prototype;
  return Constructor as unknown as T;
}

/** True when `fn` is an ES class, which cannot be called on an existing object. */
const isClass = (fn: object) => Function.prototype.toString.call(fn).startsWith('class');

/**
 * A Node HTTP server for an Express app whose requests and responses are born
 * as the app's own `app.request` and `app.response`.
 *
 * Express 5 re-parents every incoming request and response with
 * `Object.setPrototypeOf(req, app.request)` (and likewise `res`). V8 then gives
 * each of those objects a hidden class of its own, outside any transition
 * tree, so every property the framework, Nest or our code adds copies a
 * descriptor array, and every property read on `req`/`res` anywhere in the
 * stack misses its inline cache and takes V8's runtime lookup. Under callgrind
 * that runtime lookup was ~40% of the instructions of an MCP tool call (the
 * bare SDK on Express included; docs/benchmarks.md). Node's HTTP server can
 * construct requests and responses with given constructors (`IncomingMessage`,
 * `ServerResponse` options); born with Express's prototypes, Express's
 * `setPrototypeOf` changes nothing and the objects keep shared, stable shapes.
 *
 * Returns undefined on a Node whose IncomingMessage or ServerResponse is an ES
 * class (none so far): such a constructor cannot initialise an object it did
 * not allocate, and the caller should fall back to a plain server.
 */
export function createExpressServer(app: Express): Server | undefined {
  if (isClass(IncomingMessage) || isClass(ServerResponse)) return undefined;
  return createServer(
    { IncomingMessage: bornWithPrototype(IncomingMessage, app.request), ServerResponse: bornWithPrototype(ServerResponse, app.response) },
    app,
  );
}

/**
 * Nest's Express adapter, serving through {@link createExpressServer}.
 * Behaviour is Express's: the prototypes are the app's own. HTTPS,
 * `forceCloseConnections` and a class-style IncomingMessage keep Nest's own
 * server.
 */
export class ExpressHttpAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    const server = options?.httpsOptions || options?.forceCloseConnections ? undefined : createExpressServer(this.getInstance<Express>());
    if (server) this.setHttpServer(server);
    else super.initHttpServer(options);
  }
}
