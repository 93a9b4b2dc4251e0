import type { ServerResponse } from 'node:http';
import { LinkedAbortController } from '../resilience/abort-link';

// One signal per response, however often it is asked for (a controller and a service may both),
// kept on the response: a property, where a WeakMap entry per request costs several times more.
const SIGNAL = Symbol('llm.clientAbortSignal');
type WithSignal = ServerResponse & { [SIGNAL]?: AbortSignal };

/**
 * An `AbortSignal` that aborts when the HTTP client hangs up before its response is complete.
 * Pass it as a call's `signal`: a call or stream nobody waits for any more is cancelled (its
 * upstream request aborted, its bulkhead slot freed, its outcome `cancelled`) instead of spending
 * tokens for nobody. Works on every supported Node: `req.signal` exists only from Node 24.16.
 * Once the response is complete the signal never aborts.
 *
 * It listens to the response's `close`, not the request's: a request's `close` fires as soon as
 * its body has been read, a response's when the connection ends, before or after the response.
 *
 * @param res the inbound request's response: Express' `Response` (`@Res({ passthrough: true })`),
 *   Fastify's `reply.raw`, or a plain `node:http` `ServerResponse`.
 * @example
 * \@Post('chat')
 * chat(@Body() body: ChatCompletionRequest, @Res({ passthrough: true }) res: Response) {
 *   return this.llm.chat(body, { signal: clientAbortSignal(res) });
 * }
 */
export function clientAbortSignal(res: ServerResponse): AbortSignal {
  const known = (res as WithSignal)[SIGNAL];
  if (known) return known;
  // Linked: the call's deadline follows it without an EventTarget listener (see abort-link.ts).
  const controller = new LinkedAbortController();
  const abortUnlessDone = () => {
    if (!res.writableFinished) controller.abort(clientGone());
  };
  // Asked for after the connection already ended: no `close` is coming any more.
  if (res.closed || res.destroyed) abortUnlessDone();
  // `on`, not `once`: a response closes once, and `once` wraps every listener in two objects.
  else res.on('close', abortUnlessDone);
  (res as WithSignal)[SIGNAL] = controller.signal;
  return controller.signal;
}

function clientGone(): DOMException {
  return new DOMException(
    'The HTTP client closed the connection before the response',
    'AbortError',
  );
}
