import { ArgumentsHost, Catch } from '@nestjs/common';
import { BaseRpcExceptionFilter } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
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
export class LlmRpcExceptionFilter extends BaseRpcExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<unknown> {
    if (isLlmError(exception)) return throwError(() => exception.toJSON());
    return super.catch(exception, host);
  }
}
