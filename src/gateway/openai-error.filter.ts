import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import { isLlmError } from '../llm/index';
import { InvalidRequestError } from './invalid-request.error';
import {
  MAX_BODY_COMMAS,
  MAX_BODY_CONTAINERS,
  MAX_BODY_DEPTH,
  MAX_BODY_MEMBERS,
} from './json-depth.scan';
import { bodyLimitText, GATEWAY_BODY_LIMIT_BYTES, GATEWAY_CONFIG } from './gateway.constants';
import type { GatewayConfig } from './gateway.config';
import {
  PlatformRequest,
  PlatformResponse,
  rawRequest,
  rawResponse,
  requestPath,
  sendJson,
} from './http-exchange';
import { requestIdFor } from './inbound-call.options';
import { fromLlmError } from './llm-error.mapping';
import { RejectionLogSummary } from './rejection-log.summary';
import { errorTypeFor, openAiError, OpenAiErrorReply } from './openai-error.body';

const SUMMARISED_KINDS = new Set(['circuit_open', 'bulkhead_full', 'shutting_down']);
// Malformed JSON: Express' `type`, Fastify's `code` (an empty body is malformed JSON on Fastify).
const INVALID_JSON = new Set([
  'entity.parse.failed',
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
]);

/**
 * Answers every error in OpenAI's shape, so OpenAI SDKs pointed at the gateway raise their usual
 * exceptions: failed LLM calls (see {@link fromLlmError}), Nest's own HTTP exceptions (unknown
 * route, malformed JSON, body too large) and, as a generic 500, anything unexpected. Request
 * headers never reach a body or a log line: they carry the callers' credentials.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('OpenAiErrorFilter');
  private readonly rejections = new RejectionLogSummary(this.logger);
  /** The body limit its 413 names (`GATEWAY_BODY_LIMIT_MB`). */
  private readonly bodyLimitBytes: number;

  constructor(@Optional() @Inject(GATEWAY_CONFIG) config?: GatewayConfig) {
    this.bodyLimitBytes = config?.inbound.bodyLimitBytes ?? GATEWAY_BODY_LIMIT_BYTES;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<PlatformRequest>();
    const res = rawResponse(host.switchToHttp().getResponse<PlatformResponse>());
    const reply = this.describe(exception, `${rawRequest(req).method} ${requestPath(req)}`);
    if (res.headersSent) {
      // Too late for a status: cutting the connection is the only way to say the body is broken.
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    requestIdFor(req, res);
    sendJson(res, reply.status, reply.body, reply.headers);
  }

  private describe(exception: unknown, route: string): OpenAiErrorReply {
    if (isLlmError(exception)) {
      const reply = fromLlmError(exception);
      if (reply.status >= 500) {
        const line = `${route} -> ${reply.status} ${exception.kind}: ${exception.message}`;
        // Rejected here without reaching the upstream: these come by the thousand in an outage.
        if (SUMMARISED_KINDS.has(exception.kind)) this.rejections.warn(exception.kind, line);
        else this.logger.warn(line);
      }
      return reply;
    }
    if (exception instanceof HttpException) {
      return fromHttpException(exception, route, this.bodyLimitBytes);
    }
    this.logger.error(
      `${route} -> 500: unexpected error`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return openAiError(500, 'server_error', 'The gateway failed unexpectedly; see its log.', {
      code: 'internal_error',
    });
  }
}

function fromHttpException(
  exception: HttpException,
  route: string,
  bodyLimitBytes: number,
): OpenAiErrorReply {
  const status = exception.getStatus();
  const type = errorTypeFor(status);
  if (exception instanceof InvalidRequestError) {
    return openAiError(status, type, exception.message, {
      param: exception.param,
      code: exception.errorCode ?? null,
    });
  }
  // Express' body parser marks its errors with a `type`, Fastify's with a `code`; Nest keeps
  // either as the cause.
  const cause = exception.cause as { type?: unknown; code?: unknown } | undefined;
  const parserError = cause?.type ?? cause?.code;
  if (typeof parserError === 'string' && INVALID_JSON.has(parserError)) {
    return openAiError(
      status,
      type,
      `The request body is not valid JSON (${exception.message}). Send a JSON object with ` +
        'Content-Type: application/json.',
      { code: 'invalid_json' },
    );
  }
  if (parserError === 'entity.too.large' || parserError === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const message = `The request body is larger than the gateway accepts (${bodyLimitText(bodyLimitBytes)}).`;
    return openAiError(status, type, message, { code: 'payload_too_large' });
  }
  if (status === 404 && exception.message.startsWith('Cannot ')) {
    return openAiError(404, type, `Invalid URL (${route})`, { code: 'unknown_url' });
  }
  const body = typeof parserError === 'string' ? BODY_ERRORS[parserError] : undefined;
  if (body) {
    // The parser's words in brackets, unless they are ours (the nesting scan's) already.
    const detail = exception.message.slice(0, 100);
    const message = body.whole ? `${body.message}.` : `${body.message} (${detail}).`;
    return openAiError(status, type, message, { code: body.code });
  }
  return openAiError(status, type, messageOf(exception), { code: exception.errorCode ?? null });
}

/**
 * body-parser's and Fastify's other refusals of a body, by their `type` or `code`: each gets a
 * code and a sentence saying what to send instead, not only the parser's own words.
 */
const BODY_ERRORS: Record<string, { code: string; message: string; whole?: true }> = {
  'charset.unsupported': {
    code: 'unsupported_charset',
    message: 'The request body must be UTF-8 (Content-Type: application/json; charset=utf-8)',
  },
  'encoding.unsupported': {
    code: 'unsupported_content_encoding',
    message: 'The request body must be sent as is, or with Content-Encoding gzip, deflate or br',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: 'The request body must be JSON sent with Content-Type: application/json',
  },
  'request.aborted': { code: 'request_aborted', message: 'The request body ended early' },
  'entity.too.deep': {
    // As the module's own check of the same mistake (65 to 128 levels) names it.
    code: 'invalid_value',
    message: `The request body nests arrays and objects more than ${MAX_BODY_DEPTH} levels deep`,
    whole: true,
  },
  'entity.too.many.members': {
    code: 'invalid_value',
    message: `The request body holds more than ${MAX_BODY_MEMBERS.toLocaleString('en-US')} object members (keys) in all`,
    whole: true,
  },
  'entity.too.many.values': {
    code: 'invalid_value',
    message:
      `The request body holds more than ${MAX_BODY_CONTAINERS.toLocaleString('en-US')} objects ` +
      `and arrays, or more than ${MAX_BODY_COMMAS.toLocaleString('en-US')} values, in all`,
    whole: true,
  },
  'request.size.invalid': {
    code: 'invalid_body_length',
    message: 'The request body is not as long as its Content-Length says',
  },
  // A compressed body that does not decompress: zlib's error, under body-parser's 400.
  Z_DATA_ERROR: { code: 'invalid_body', message: 'The request body could not be decompressed' },
  Z_BUF_ERROR: { code: 'invalid_body', message: 'The request body could not be decompressed' },
};

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
