import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import type { BaseRpcExceptionFilter } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { loadOptionalPeer } from '../optional-peer';
import { isLlmError } from '../resilience/llm.errors';

/**
 * Sends an {@link LlmError} thrown by a message handler to the producer in its plain form
 * (`LlmErrorJson`: kind, code, message, retryable, status, retryAfterMs, requestId, attempts;
 * redacted), instead of Nest's `{"status":"error","message":"Internal server error"}`. The
 * producer rebuilds a typed error with `LlmError.fromJSON(err)`. Anything else is handled as
 * Nest's own RPC filter does (an `RpcException`'s error is sent, other errors are hidden).
 *
 * @example
 * const app = await NestFactory.createMicroservice(WorkerModule, { transport: Transport.RMQ });
 * app.useGlobalFilters(new LlmRpcExceptionFilter());
 */
@Catch()
export class LlmRpcExceptionFilter implements RpcExceptionFilter {
  // Nest's own filter, from the application's @nestjs/microservices (an optional peer: an
  // HTTP-only application never loads it). Delegated to rather than extended for that reason.
  private base?: BaseRpcExceptionFilter;

  catch(exception: unknown, host: ArgumentsHost): Observable<unknown> {
    if (isLlmError(exception)) return throwError(() => exception.toJSON());
    this.base ??= new (loadOptionalPeer<typeof import('@nestjs/microservices')>(
      '@nestjs/microservices',
      'LlmRpcExceptionFilter',
    ).BaseRpcExceptionFilter)();
    return this.base.catch(exception, host);
  }
}
