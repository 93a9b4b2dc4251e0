import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { LlmError, type LlmErrorKind } from '../resilience/llm.errors';

/** What the app's client is told, per kind: its status, and a sentence free of upstream detail. */
const REPLIES: Readonly<Record<LlmErrorKind, { status: number; message: string }>> = {
  // The AI service, or this app's protection of it, says "not now": come back later.
  rate_limited: { status: 503, message: 'The AI service is busy. Try again later.' },
  quota_exceeded: { status: 503, message: 'The AI service is unavailable. Try again later.' },
  overloaded: { status: 503, message: 'The AI service is overloaded. Try again later.' },
  circuit_open: { status: 503, message: 'The AI service is unavailable. Try again later.' },
  bulkhead_full: { status: 503, message: 'The AI service is busy. Try again later.' },
  shutting_down: { status: 503, message: 'This server is restarting. Try again.' },
  conflict: { status: 503, message: 'The AI service is busy. Try again later.' },
  // It did not answer in time.
  timeout: { status: 504, message: 'The AI service did not answer in time.' },
  deadline_exceeded: { status: 504, message: 'The AI service did not answer in time.' },
  // It answered badly, or refused this app's own configuration (key, model name).
  server_error: { status: 502, message: 'The AI service failed.' },
  network: { status: 502, message: 'The AI service could not be reached.' },
  invalid_response: { status: 502, message: 'The AI service answered with something unreadable.' },
  incomplete_stream: {
    status: 502,
    message: 'The AI service stopped before its answer was complete.',
  },
  auth: { status: 502, message: 'The AI service refused this server’s credentials.' },
  not_found: { status: 502, message: 'The AI model this server asked for was not found.' },
  // The caller's own input: too long, or refused by the provider's content filter.
  context_length_exceeded: { status: 400, message: 'The input is too long for the AI model.' },
  content_filtered: { status: 400, message: 'The AI service’s content filter refused the input.' },
  // A request this app built and the provider refused, or a failure inside this process.
  bad_request: { status: 500, message: 'Internal server error' },
  internal: { status: 500, message: 'Internal server error' },
  // The caller left: nobody reads this (nginx's "client closed request").
  cancelled: { status: 499, message: 'The request was cancelled.' },
};

/** Kinds that are this process's own refusals, not failures: not logged one by one. */
const REFUSALS: ReadonlySet<LlmErrorKind> = new Set<LlmErrorKind>([
  'rate_limited',
  'circuit_open',
  'bulkhead_full',
  'shutting_down',
]);

/** Options of {@link LlmHttpExceptionFilter}. */
export interface LlmHttpExceptionFilterOptions {
  /**
   * Send the error's own message (upstream and model names, the provider's words, redacted of
   * keys) instead of the kind's public sentence: for internal APIs. @default false
   */
  exposeMessages?: boolean;
}

/**
 * Answers an {@link LlmError} that escapes an HTTP route (Express or Fastify) with the status
 * that says what happened instead of Nest's plain 500: 503 with `Retry-After` when the AI service
 * is busy, overloaded or its circuit is open, 504 when it did not answer in time, 502 when it
 * failed or refused this server's own key, 400 when the caller's input is too long or filtered,
 * 500 for a request this app built wrongly. The body is Nest's shape plus the kind:
 * `{ statusCode, message, error, kind, retryAfterMs? }`; the message is a public sentence per
 * kind (the full error of a 5xx failure is logged at warn) unless `exposeMessages` is set. Other
 * exceptions are left to Nest's own handling. A stream whose answer has begun is cut instead.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useGlobalFilters(new LlmHttpExceptionFilter());
 */
@Catch(LlmError)
export class LlmHttpExceptionFilter implements ExceptionFilter<LlmError> {
  private readonly logger = new Logger('LlmHttpExceptionFilter');

  constructor(private readonly options: LlmHttpExceptionFilterOptions = {}) {}

  catch(error: LlmError, host: ArgumentsHost): void {
    // Express' response is Node's; Fastify's reply holds it as `raw`.
    const reply = host.switchToHttp().getResponse<ServerResponse | FastifyLikeReply>();
    const res = 'raw' in reply ? reply.raw : reply;
    // A provider's 429 whose wait passes the deadline is still "busy, come back then".
    const kind =
      error.kind === 'deadline_exceeded' && error.status === 429 ? 'rate_limited' : error.kind;
    const { status, message } = REPLIES[kind] ?? REPLIES.internal;
    // Failures, once each; not the refusals that come by the thousand in an outage (the module
    // logs the breaker's and the limiter's own state changes).
    if (status >= 500 && !REFUSALS.has(error.kind)) {
      this.logger.warn(`${status} ${error.kind}: ${error.message}`);
    }
    if (res.headersSent) {
      // A stream already under way: no status can be sent; a cut says the body is broken.
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    const retryAfterMs =
      error.retryAfterMs !== undefined && status === 503
        ? Math.max(0, Math.ceil(error.retryAfterMs))
        : undefined;
    const body = JSON.stringify({
      statusCode: status,
      message: this.options.exposeMessages ? error.message : message,
      error: STATUS_CODES[status] ?? 'Error',
      kind: error.kind,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (retryAfterMs !== undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
    if ('raw' in reply) {
      // Through Fastify's reply: the headers its hooks set (CORS, say) go out with the answer.
      reply.code(status).headers(headers).send(body);
      return;
    }
    res.statusCode = status;
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.end(body);
  }
}

/** The part of Fastify's reply this filter uses (the package is not a dependency). */
interface FastifyLikeReply {
  raw: ServerResponse;
  code(status: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(body: string): unknown;
}
