import type { INestApplication, LoggerService } from '@nestjs/common';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LlmDrain, type LlmDrainResult } from '../llm/index';
import { LLM_RESOLVED_OPTIONS } from '../llm/llm.constants';
import type { ResolvedLlmOptions } from '../llm/llm-module.options';

/** How long answers of calls ended by the drain may take to be written before sockets are cut. */
const WRITE_GRACE_MS = 1000;

/**
 * The gateway's SIGTERM sequence, before `app.close()`:
 * 1. readiness fails at once (`LlmDrain.begin()`), liveness still answers;
 * 2. after `delayMs` (so load balancers notice), the server stops accepting connections;
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
  const delayMs = Math.min(options.delayMs, timeoutMs);
  options.logger.log(
    `Shutting down: readiness fails now; the server stops accepting in ${delayMs} ms; ` +
      `${drain.inFlight} LLM call(s) in flight have up to ${timeoutMs} ms to finish`,
  );
  await sleep(delayMs);
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
