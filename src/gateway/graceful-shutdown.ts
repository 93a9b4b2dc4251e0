import type { INestApplication, LoggerService } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LlmDrain, type LlmDrainResult } from '../llm/index';
import { LLM_RESOLVED_OPTIONS } from '../llm/llm.constants';
import type { ResolvedLlmOptions } from '../llm/llm-module.options';
import { sendJson } from './http-exchange';
import { requestIdOf } from './inbound-call.options';
import { isOpenPath } from './inbound-guard.middleware';
import { openAiError } from './openai-error.body';

/** How long answers of calls ended by the drain may take to be written before sockets are cut. */
const WRITE_GRACE_MS = 1000;

/**
 * The gateway's SIGTERM sequence, before `app.close()`:
 * 1. readiness fails at once (`LlmDrain.begin()`), liveness still answers;
 *    From then on every answer closes its connection, so pooled clients and proxies reconnect
 *    (to another replica once readiness has propagated) instead of reusing this one;
 * 2. after `delayMs` (so load balancers notice), the server stops accepting connections, and a
 *    new request (but health and metrics) on a connection kept from before gets 503 `shutting_down` at once;
 * 3. calls and streams in flight finish, within the module's drain timeout counted from step 1;
 *    the rest end with `shutting_down` (never retried, never a breaker failure);
 * 4. idle connections are closed. `app.close()` then closes the upstream transports and
 *    flushes business events, in that order.
 *
 * @example
 * process.once('SIGTERM', () => void drainGateway(app, { delayMs: 5000, logger }).then(() => app.close()));
 */
export async function drainGateway(
  app: INestApplication,
  options: { delayMs: number; logger: LoggerService },
): Promise<LlmDrainResult> {
  const drain = app.get(LlmDrain);
  const { timeoutMs } = app.get<ResolvedLlmOptions>(LLM_RESOLVED_OPTIONS).drain;
  const server = app.getHttpServer() as Server;
  const started = Date.now();
  drain.begin();
  const requests = closeEveryConnectionAfterItsAnswer(server);
  const delayMs = Math.min(options.delayMs, timeoutMs);
  options.logger.log(
    `Shutting down: readiness fails now; the server stops accepting in ${delayMs} ms; ` +
      `${drain.inFlight} LLM call(s) in flight have up to ${timeoutMs} ms to finish`,
  );
  await sleep(delayMs);
  requests.stopAccepting();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const result = await drain.drain(Math.max(0, timeoutMs - (Date.now() - started)));
  // Answers still being written finish; their keep-alive sockets close as soon as they are idle.
  const graceOver = Date.now() + WRITE_GRACE_MS;
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  while (!isClosed && Date.now() < graceOver) {
    server.closeIdleConnections();
    await sleep(20);
  }
  server.closeAllConnections();
  options.logger.log(
    `Drained in ${Date.now() - started} ms: ${result.inFlightAtStart} call(s) were in flight ` +
      `when the drain started, ${result.ended} ended by the drain timeout`,
  );
  return result;
}

/**
 * Puts itself in front of the server's request listeners for the drain: every answer from now
 * closes its connection (`Connection: close`), and once {@link stopAccepting} is called a request
 * (but health and metrics) that still arrives on a kept connection is answered 503 `shutting_down` (retry
 * elsewhere) without reaching the app; probes and scrapes are still served. Node's `server.close()`
 * stops new connections only: without this a client keeping its connection open went on feeding
 * calls to the replica that was going away.
 */
function closeEveryConnectionAfterItsAnswer(server: Server): { stopAccepting(): void } {
  const listeners = server.listeners('request') as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  let accepting = true;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.shouldKeepAlive = false;
    if (!accepting && !isOpenPath(req)) {
      req.resume();
      const reply = openAiError(
        503,
        'service_unavailable_error',
        'This gateway replica is shutting down: send the request again (another replica takes it).',
        { code: 'shutting_down' },
      );
      sendJson(res, reply.status, reply.body, {
        ...reply.headers,
        'x-llm-error-kind': 'shutting_down',
        'x-should-retry': 'true',
        // Every answer carries one: the caller's well-formed id, else a new one.
        'x-request-id': requestIdOf(req),
      });
      return;
    }
    for (const listener of listeners) listener.call(server, req, res);
  });
  return { stopAccepting: () => (accepting = false) };
}
