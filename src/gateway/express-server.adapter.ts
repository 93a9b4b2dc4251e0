import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type * as Express from 'express';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import type { NodeMiddleware } from './inbound-guard.middleware';

/**
 * A route the gateway's HTTP server answers itself, before Express' router: requests of `method`
 * to exactly `path`, with or without a query string. Any other spelling of the path (another
 * case, a trailing slash) still goes through Express, which answers it as before.
 */
export interface DirectRoute {
  method: string;
  path: string;
  handle(req: http.IncomingMessage, res: http.ServerResponse): void;
}

/** The parts of an Express app this adapter reads: the prototypes Express gives req and res. */
interface ExpressPrototypes {
  request: object;
  response: object;
}

/**
 * Nest's Express adapter, whose HTTP server creates every request and response with Express'
 * prototypes (`app.request`, `app.response`) from the start. Express sets them on each request
 * (`Object.setPrototypeOf` in `app.handle`): on an object Node already built, that moves it to
 * another hidden class, so Node's HTTP code after it sees two shapes of every request and
 * response, and each request pays the change. Built with the final prototype, the change is a
 * no-op and the shapes stay one. Requests and responses are the same objects as before (Node's
 * IncomingMessage and ServerResponse, with Express' methods).
 *
 * Only for the options the gateway uses: with `httpsOptions`, `return503OnClosing` or
 * `forceCloseConnections` it builds Nest's own server.
 *
 * @example
 * const app = await NestFactory.create<NestExpressApplication>(module, new GatewayExpressAdapter());
 */
export class GatewayExpressAdapter extends ExpressAdapter {
  /** Whether the server is this adapter's own, which can answer a {@link DirectRoute}. */
  private ownServer = false;
  private direct: DirectRoute | undefined;

  override initHttpServer(options: NestApplicationOptions): void {
    if (options.httpsOptions || options.return503OnClosing || options.forceCloseConnections) {
      return super.initHttpServer(options);
    }
    const app = this.getInstance<ExpressPrototypes & http.RequestListener>();
    this.httpServer = http.createServer(
      {
        IncomingMessage: withPrototype(http.IncomingMessage, app.request),
        ServerResponse: withPrototype(http.ServerResponse, app.response),
      },
      (req, res) => {
        const direct = this.direct;
        if (direct !== undefined && req.method === direct.method && isPath(req.url, direct.path)) {
          direct.handle(req, res);
        } else {
          app(req, res);
        }
      },
    );
    this.ownServer = true;
  }

  /** The route answered before Express' router, if any. */
  get directRoute(): DirectRoute | undefined {
    return this.direct;
  }

  /**
   * Answers `route` before Express' router (see {@link DirectRoute}); false, and nothing
   * changes, when the server is Nest's own (HTTPS and the other options this adapter leaves to
   * Nest).
   */
  setDirectRoute(route: DirectRoute): boolean {
    if (!this.ownServer) return false;
    this.direct = route;
    return true;
  }
}

/** Whether a request target is `path`, alone or followed by a query string. */
function isPath(url: string | undefined, path: string): boolean {
  if (url === undefined || !url.startsWith(path)) return false;
  return url.length === path.length || url.charCodeAt(path.length) === 0x3f; // '?'
}

/**
 * Express' JSON body parser (body-parser) with these options, as Nest's
 * `useBodyParser('json', options)` builds it (from the Express its platform loads), but not
 * registered as a middleware of its own: the gateway calls it from its guard's step for the
 * bodies its fast reader leaves (see json-body.reader.ts), which spares every request a step of
 * Express' router.
 *
 * @example
 * express.use(inboundGuard(keys, jsonBodyReader(limitBytes, expressJsonParser({ limit: '10mb' }))));
 */
export function expressJsonParser(options: Parameters<typeof Express.json>[0]): NodeMiddleware {
  // Resolved from Nest's platform package, which depends on Express: the same module it uses.
  const express = createRequire(require.resolve('@nestjs/platform-express'))(
    'express',
  ) as typeof Express;
  return express.json(options) as NodeMiddleware;
}

/**
 * A constructor that builds `base`'s objects with `prototype` (which inherits from `base`'s own):
 * Node's HTTP server calls it with `new`, as it would call `base`.
 */
function withPrototype<T extends typeof http.IncomingMessage | typeof http.ServerResponse>(
  base: T,
  prototype: object,
): T {
  if (!(prototype instanceof base)) {
    throw new TypeError(`Express' prototype does not inherit from ${base.name}`);
  }
  // Built by `base` itself for this constructor (`new.target`): the object gets `base`'s layout
  // (the room V8 learnt its instances need), only its prototype differs.
  function Built(this: object, ...args: unknown[]): object {
    return Reflect.construct(base, args, new.target) as object;
  }
  Built.prototype = prototype;
  return Built as unknown as T;
}
