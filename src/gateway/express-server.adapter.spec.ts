import { Controller, Get, type INestApplication, Module, Post, Query, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import * as http from 'node:http';
import * as v8 from 'node:v8';
import { GatewayExpressAdapter } from './express-server.adapter';

// V8's own view of an object's layout: a request or response that V8 keeps as a dictionary makes
// every property access of Node's HTTP code slower (a first version of the adapter did that).
v8.setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the natives syntax, compiled now
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (
  o: object,
) => boolean;

@Controller()
class ShapeController {
  @Get('shape')
  shape(@Req() req: Request, @Query('q') q: string) {
    // Express' request methods and getters, as a route uses them.
    return { host: req.get('host'), path: req.path, q };
  }

  @Post('shape')
  fail(): never {
    throw new Error('boom');
  }
}

@Module({ controllers: [ShapeController] })
class ShapeModule {}

interface Seen {
  request: object;
  response: object;
  isIncomingMessage: boolean;
  isServerResponse: boolean;
  fast: boolean;
}

async function start(options: { forceCloseConnections?: boolean } = {}) {
  const app = await NestFactory.create<NestExpressApplication>(
    ShapeModule,
    new GatewayExpressAdapter(),
    { logger: false, ...options },
  );
  const seen: Seen[] = [];
  // First in line, before Express sets anything on the request.
  app.getHttpServer().prependListener('request', (req, res) => {
    seen.push({
      request: Object.getPrototypeOf(req) as object,
      response: Object.getPrototypeOf(res) as object,
      isIncomingMessage: req instanceof http.IncomingMessage,
      isServerResponse: res instanceof http.ServerResponse,
      fast: hasFastProperties(req) && hasFastProperties(res),
    });
  });
  await app.listen(0, '127.0.0.1');
  const express = app.getHttpAdapter().getInstance() as { request: object; response: object };
  return { app, seen, express, url: await app.getUrl() };
}

describe('GatewayExpressAdapter', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("builds each request and response with Express' prototypes, and Express works on them", async () => {
    const started = await start();
    app = started.app;
    const res = await fetch(`${started.url}/shape?q=hi`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ host: new URL(started.url).host, path: '/shape', q: 'hi' });
    expect(started.seen).toEqual([
      {
        request: started.express.request,
        response: started.express.response,
        isIncomingMessage: true,
        isServerResponse: true,
        // As Node's own: the objects keep the layout of IncomingMessage and ServerResponse.
        fast: true,
      },
    ]);
  });

  it("answers errors and unknown routes as Nest's Express server does", async () => {
    const started = await start();
    app = started.app;
    const failed = await fetch(`${started.url}/shape`, { method: 'POST' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ statusCode: 500, message: 'Internal server error' });
    const missing = await fetch(`${started.url}/nothing-here`);
    expect(missing.status).toBe(404);
  });

  it("leaves Nest's own server to the options it does not build for", async () => {
    const started = await start({ forceCloseConnections: true });
    app = started.app;
    const res = await fetch(`${started.url}/shape?q=x`);
    expect(res.status).toBe(200);
    expect(started.seen[0]?.request).toBe(http.IncomingMessage.prototype);
    expect(started.seen[0]?.response).toBe(http.ServerResponse.prototype);
  });
});
