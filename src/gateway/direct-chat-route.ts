import type { ExceptionFilter, INestApplication } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChatCompletionsController } from './chat-completions.controller';
import type { GatewayExpressAdapter } from './express-server.adapter';
import type { NodeMiddleware } from './inbound-guard.middleware';
import { OpenAiErrorFilter } from './openai-error.filter';

const CHAT_PATH = '/v1/chat/completions';

/** What Express' router holds, as far as this file reads it (Express 5's `app.router`). */
interface RouterLayer {
  handle: (...args: never[]) => unknown;
  route?: { path: string; methods: Record<string, boolean>; stack: RouterLayer[] };
}
type ErrorHandler = (
  error: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** The parts of Nest's application config read here (`NestApplication.config`, not public). */
interface EnhancerConfig {
  getGlobalFilters(): unknown[];
  getGlobalGuards(): unknown[];
  getGlobalPipes(): unknown[];
  getGlobalInterceptors(): unknown[];
  getGlobalRequestFilters(): unknown[];
  getGlobalRequestGuards(): unknown[];
  getGlobalRequestPipes(): unknown[];
  getGlobalRequestInterceptors(): unknown[];
}

/** Whether the chat route is answered directly, and when not, why. */
export type DirectChatRoute = { direct: true } | { direct: false; reason: string };

/**
 * Answers `POST /v1/chat/completions` without Express' router walk and Nest's route pipeline:
 * the server hands the request to the inbound guard (key, content type, the body's reading), then
 * to {@link ChatCompletionsController.create}, whose errors go to the {@link OpenAiErrorFilter}
 * (those of the guard and the body to Nest's own error handler, as through Express). That is
 * what Express and Nest do for this route, without the work they do for every route: the walk
 * through the router's layers, and Nest's promise chain around a handler that has no guard, pipe,
 * interceptor or filter of its own (11–45 µs of every chat call in stop 29's runs:
 * bench/README.md §5).
 *
 * Taken only when Nest would do nothing more, checked once at startup: the layers before the
 * route are Nest's request hooks (none set) and the guard; the route has only Nest's handler; the
 * handler takes `@Req()` and `@Res()`, and sets no status, header, redirect or template; no guard,
 * pipe, interceptor or filter applies to it other than the global OpenAiErrorFilter. Anything
 * else (CORS, a global guard an app adds, Nest's HTTPS server) leaves the route to the router,
 * which answers it as before: the reason is returned.
 *
 * @example
 * const decision = answerChatDirectly(app, adapter, guard); // after app.init()
 */
export function answerChatDirectly(
  app: INestApplication,
  adapter: GatewayExpressAdapter,
  guard: NodeMiddleware,
): DirectChatRoute {
  const stack = adapter.getInstance<{ router?: { stack?: RouterLayer[] } }>().router?.stack;
  if (!stack) return { direct: false, reason: "Express' router is not readable" };
  const at = stack.findIndex((l) => l.route?.path === CHAT_PATH && l.route.methods.post === true);
  const route = stack[at]?.route;
  if (!route) return { direct: false, reason: `no POST ${CHAT_PATH} route` };
  // Nest's request-hook layer, then the guard: any other layer (CORS, an app's middleware) runs.
  if (at !== 2 || stack[1]!.handle !== guard) {
    return { direct: false, reason: `middleware before ${CHAT_PATH} (CORS, an app's own)` };
  }
  const hooks = adapter as unknown as { onRequestHook?: unknown; onResponseHook?: unknown };
  if (hooks.onRequestHook || hooks.onResponseHook) {
    return { direct: false, reason: "Nest's request or response hooks are set" };
  }
  if (route.stack.length !== 1) return { direct: false, reason: 'more than one route handler' };
  const errorHandler = stack.find((l) => !l.route && l.handle.length === 4)?.handle as
    ErrorHandler | undefined;
  if (!errorHandler) return { direct: false, reason: "no Nest error handler in Express' router" };
  const filter = onlyErrorFilter(app);
  if (typeof filter === 'string') return { direct: false, reason: filter };
  const handler = handlerProblem();
  if (handler) return { direct: false, reason: handler };
  const controller = app.get(ChatCompletionsController);
  const taken = adapter.setDirectRoute({
    method: 'POST',
    path: CHAT_PATH,
    handle: (req, res) => {
      // Nest's error handler answers every error it is given; nothing comes after it.
      const next = (error?: unknown): void => {
        if (error !== undefined) errorHandler(error, req, res, () => res.destroy());
      };
      asExpressRoute(req, res, route);
      guard(req, res, (error) => {
        if (error !== undefined) return next(error);
        // Nest's default status of a POST, set before it calls the handler (which sets its own).
        res.statusCode = 201;
        // As Nest's route would: the handler's errors to the filter, with the same arguments.
        controller.create(req, res).catch((exception: unknown) => {
          filter.catch(exception, new ExecutionContextHost([req, res, next]));
        });
      });
    },
  });
  return taken ? { direct: true } : { direct: false, reason: "Nest's own HTTP server" };
}

/** What Express' app and router set on a request they route to this handler. */
function asExpressRoute(req: IncomingMessage, res: ServerResponse, route: object): void {
  const request = req as IncomingMessage & ExpressRequestFields;
  const response = res as ServerResponse & { locals?: object };
  request.res = res;
  response.locals ??= Object.create(null) as object;
  request.originalUrl = req.url;
  request.baseUrl = '';
  request.params = {};
  request.route = route;
}

/** What Express' router adds to a request (`res.req` is Node's own already). */
interface ExpressRequestFields {
  res: ServerResponse;
  originalUrl?: string;
  baseUrl: string;
  params: Record<string, string>;
  route: object;
}

/** The one exception filter that applies to the chat handler, or why there is not one. */
function onlyErrorFilter(app: INestApplication): ExceptionFilter | string {
  const config = (app as unknown as { config?: Partial<EnhancerConfig> }).config;
  const methods: Array<keyof EnhancerConfig> = [
    'getGlobalGuards',
    'getGlobalPipes',
    'getGlobalInterceptors',
    'getGlobalRequestFilters',
    'getGlobalRequestGuards',
    'getGlobalRequestPipes',
    'getGlobalRequestInterceptors',
  ];
  const all: Array<keyof EnhancerConfig> = [...methods, 'getGlobalFilters'];
  if (!config || !all.every((m) => typeof config[m] === 'function')) {
    return "Nest's application config is not readable";
  }
  const read = (method: keyof EnhancerConfig) =>
    (config as EnhancerConfig)[method]().filter((item) => item != null);
  if (methods.some((method) => read(method).length > 0)) {
    return 'a global guard, pipe, interceptor or request-scoped filter applies';
  }
  const filters = read('getGlobalFilters');
  const filter = filters[0];
  if (filters.length !== 1 || !(filter instanceof OpenAiErrorFilter)) {
    return 'the global exception filters are not the OpenAiErrorFilter alone';
  }
  return filter;
}

/** Why Nest would do more around the chat handler than call it, if it would. */
function handlerProblem(): string | undefined {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the handler as a metadata key
  const handler = ChatCompletionsController.prototype.create;
  for (const key of [GUARDS_METADATA, PIPES_METADATA, INTERCEPTORS_METADATA]) {
    for (const target of [ChatCompletionsController, handler]) {
      const items = Reflect.getMetadata(key, target) as unknown[] | undefined;
      if (items?.length) return `the chat controller or handler has ${key}`;
    }
  }
  for (const target of [ChatCompletionsController, handler]) {
    const filters = Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, target) as
      unknown[] | undefined;
    if (filters?.length) return 'the chat controller or handler has its own exception filter';
  }
  for (const key of [
    HTTP_CODE_METADATA,
    HEADERS_METADATA,
    REDIRECT_METADATA,
    RENDER_METADATA,
    SSE_METADATA,
  ]) {
    if (Reflect.getMetadata(key, handler) !== undefined) return `the chat handler has ${key}`;
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, ChatCompletionsController, 'create') as
    Record<string, { index: number }> | undefined;
  const expected: Record<string, number> = {
    [`${RouteParamtypes.REQUEST}:0`]: 0,
    [`${RouteParamtypes.RESPONSE}:1`]: 1,
  };
  const keys = Object.keys(args ?? {});
  const same = keys.length === 2 && keys.every((key) => expected[key] === args![key]!.index);
  return same ? undefined : 'the chat handler takes other arguments than @Req() and @Res()';
}
