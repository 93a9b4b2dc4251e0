import { answerClientError, answerClientErrors } from './client-error.handler';
import { type INestApplication, Logger, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import { AppModule } from '../app.module';
import { FORWARDED_HEADER_NAMES } from '../llm/resilience/forwarded-headers';
import type { UpstreamSimulator } from '../simulator/upstream-simulator';
import { answerChatDirectly } from './direct-chat-route';
import { expressJsonParser, GatewayExpressAdapter } from './express-server.adapter';
import type { GatewayConfig } from './gateway.config';
import { inboundGuard, isChatRoute, type NodeMiddleware } from './inbound-guard.middleware';
import { jsonBodyReader, refuseDeclaredOverLimit } from './json-body.reader';
import { refuseTooDeep } from './json-depth.scan';
import { decodedRequestBody } from './content-encoding';
import { SafeConsoleLogger } from './safe-console.logger';
import { recordHttpServerMetrics } from './telemetry.http-server';

/** Options of {@link createGatewayApp}. */
export interface GatewayAppOptions {
  /** Nest's logger setting; tests pass `false`. @default SafeConsoleLogger (control characters escaped) */
  logger?: NestApplicationOptions['logger'];
  /** A built-in simulator serving as upstream, closed with the app. */
  simulator?: UpstreamSimulator;
  /**
   * Called with the app before it is initialised, after the gateway's own setup: global guards,
   * pipes, interceptors or filters added here apply to every route, the chat route included.
   */
  configure?: (app: INestApplication) => void;
}

/**
 * Builds the gateway's Nest app, initialised but not listening: `main.ts` listens on the
 * configured port, tests on port 0. It runs on Express or Fastify (GATEWAY_HTTP_PLATFORM); the
 * routes write Node's response themselves (see http-exchange.ts), so both answer alike.
 *
 * @example
 * const app = await createGatewayApp(loadGatewayConfig({ LLM_BASE_URL: sim.baseUrl }), { logger: false });
 * await app.listen(0, '127.0.0.1');
 * const url = await app.getUrl();
 */
export async function createGatewayApp(
  config: GatewayConfig,
  options: GatewayAppOptions = {},
): Promise<INestApplication> {
  const module = AppModule.forRoot(config, { simulator: options.simulator });
  const appOptions: NestApplicationOptions = {
    // Errors reach the caller instead of Nest exiting the process (tests boot apps in-process).
    abortOnError: false,
    // No default parsers: Nest's would also parse forms (see inboundGuard).
    bodyParser: false,
    logger: options.logger === undefined ? new SafeConsoleLogger() : options.logger,
  };
  const { inbound } = config;
  const expressAdapter =
    inbound.httpPlatform === 'fastify' ? undefined : new GatewayExpressAdapter();
  const app = expressAdapter
    ? await NestFactory.create<NestExpressApplication>(
        module,
        // Requests and responses built with Express' prototypes (see the adapter).
        expressAdapter,
        appOptions,
      )
    : await NestFactory.create<NestFastifyApplication>(
        module,
        // Fastify's own JSON parser (no form parser), with the gateway's body limit.
        // A trailing slash reaches the route, as on Express (non-strict routing).
        new FastifyAdapter({
          bodyLimit: inbound.bodyLimitBytes,
          // A long path parameter (a job id) reaches the route, which bounds it and answers in
          // OpenAI's shape, as on Express; past Fastify's default of 100 it answered its own 414.
          // Node's header limit (16 KiB) bounds the whole URL.
          routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16_384 },
          // What Node's parser refuses, in OpenAI's shape (Fastify's own listener answers first).
          clientErrorHandler: answerClientError,
        }),
        appOptions,
      );
  // CORS off unless origins are configured: a browser page of another origin gets no answer.
  if (inbound.corsOrigins.length > 0) {
    app.enableCors({
      origin: inbound.corsOrigins.includes('*') ? '*' : inbound.corsOrigins,
      // No list of request headers: a preflight's are allowed as it asks (the origin is what is
      // checked). OpenAI's SDKs send headers of their own on every call (`x-stainless-*`, which
      // vary by version and runtime), and a fixed list made browsers refuse the call.
      // Every header the gateway answers with is readable by the page: without `x-should-retry`
      // an SDK in a browser retried what the gateway said not to.
      exposedHeaders: [
        'x-request-id',
        'x-should-retry',
        'retry-after',
        'retry-after-ms',
        'x-llm-attempts',
        'x-llm-error-kind',
        'x-llm-model',
        'x-llm-fallbacks',
        'x-llm-fallback-reason',
        'x-llm-upstream-request-id',
        ...FORWARDED_HEADER_NAMES,
        'location',
        'preference-applied',
      ],
    });
  }
  // Before the parser, so a refused request is never read (Fastify parses after its middleware).
  let guard: NodeMiddleware | undefined;
  if (expressAdapter) {
    const express = app as NestExpressApplication;
    // The chat call's body is read by the fast reader, body-parser reads every other one, both in
    // the guard's router step (one router step for the three).
    const parser = expressJsonParser({
      limit: inbound.bodyLimitBytes,
      strict: false,
      verify: refuseTooDeep,
    });
    const reader = jsonBodyReader(inbound.bodyLimitBytes, parser);
    // Only the chat route takes a body: any other request's is left unparsed (Node drops it), so
    // a body sent to /health or /metrics costs no parse.
    guard = inboundGuard(
      inbound.apiKeys,
      (req, res, next) => (isChatRoute(req) ? reader(req, res, next) : next()),
      inbound.bodyLimitBytes,
    );
    express.use(guard);
    express.disable('x-powered-by');
  } else {
    app.use(
      inboundGuard(
        inbound.apiKeys,
        refuseDeclaredOverLimit(inbound.bodyLimitBytes),
        inbound.bodyLimitBytes,
      ),
    );
    // A compressed body is decoded, as Express' parser does, and a body nested too deep is
    // refused as it arrives, before Fastify's JSON parser sees it.
    const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
    fastify.addHook('preParsing', (request, _reply, payload, done) => {
      const body = decodedRequestBody(
        payload,
        request.headers['content-encoding'],
        request.headers['content-type'],
      );
      if (body instanceof Error) done(body);
      else done(null, body);
    });
  }
  boundSlowClients(app.getHttpServer(), config);
  if (expressAdapter) answerClientErrors(app.getHttpServer());
  recordHttpServerMetrics(app.getHttpServer());
  options.configure?.(app);
  await app.init();
  // Once Nest has registered its routes and enhancers: the chat route skips Express' router when
  // nothing but the guard and the handler would run for it (see answerChatDirectly).
  if (expressAdapter && guard) {
    const chat = answerChatDirectly(app, expressAdapter, guard);
    if (!chat.direct) {
      new Logger('Gateway').log(
        `POST /v1/chat/completions goes through Express' router: ${chat.reason}`,
      );
    }
  }
  return app;
}

/**
 * Server-side limits for slow or silent clients: one that never finishes its headers or its body
 * is dropped instead of holding a socket forever. Responses are not limited: a stream may be long.
 */
function boundSlowClients(server: Server, { inbound }: GatewayConfig): void {
  server.headersTimeout = Math.min(inbound.headersTimeoutMs, inbound.requestTimeoutMs);
  server.requestTimeout = inbound.requestTimeoutMs;
  server.keepAliveTimeout = inbound.keepAliveTimeoutMs;
}
