import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * A constructor that runs `base`'s constructor on an object born with
 * `prototype`. Node's IncomingMessage and ServerResponse are ES5 constructor
 * functions, so they can initialise an object they did not allocate.
 * (Reflect.construct with a new target does the same for classes, but measured
 * slower than Nest's own server: docs/benchmarks.md.)
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
 * Nest's Express adapter with requests and responses created as Express's own
 * request and response objects.
 *
 * Express 5 re-parents every incoming request and response with
 * `Object.setPrototypeOf(req, app.request)` (and likewise `res`). V8 then gives
 * each of those objects a hidden class of its own, outside any transition
 * tree, so every property the framework, Nest or our code adds copies a
 * descriptor array, and every property read on `req`/`res` anywhere in the
 * stack misses its inline cache and takes V8's runtime lookup. Under callgrind
 * that runtime lookup was ~40% of the instructions of an MCP tool call (the
 * bare SDK on Express included; docs/benchmarks.md). Node's HTTP server can
 * construct requests and responses with given classes (`IncomingMessage`,
 * `ServerResponse` options); when they are born with Express's prototypes,
 * Express's `setPrototypeOf` changes nothing and the objects keep shared,
 * stable shapes.
 *
 * Behaviour is Express's: the prototypes are the app's own `app.request` and
 * `app.response`. HTTPS, `forceCloseConnections`, and a Node whose
 * IncomingMessage or ServerResponse has become a class keep Nest's own server.
 */
export class ExpressHttpAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections || isClass(IncomingMessage) || isClass(ServerResponse)) {
      return super.initHttpServer(options);
    }
    const app = this.getInstance<Express>();
    this.setHttpServer(
      createServer(
        {
          IncomingMessage: bornWithPrototype(IncomingMessage, app.request),
          ServerResponse: bornWithPrototype(ServerResponse, app.response),
        },
        app,
      ),
    );
  }
}
