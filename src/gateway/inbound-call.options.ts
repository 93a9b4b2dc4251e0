import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { clientAbortSignal, currentLlmContext, type LlmCallOptions } from '../llm/index';
import { heldHeader, holdHeader, rawRequest, type PlatformRequest } from './http-exchange';

/** Call options that always carry a request id and the client's abort signal. */
export type InboundCallOptions = LlmCallOptions & { requestId: string; signal: AbortSignal };

// What a caller may send as its request id: it is echoed in a response header and written to
// logs and events, so anything else is replaced by a fresh id rather than trusted.
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * The LlmClient call options of one inbound request: the request id (the context's, from a
 * well-formed `x-request-id` or new) is echoed back; who and which feature come from the module's
 * context interceptor. The signal aborts when the client goes away before the response is complete, so an
 * abandoned call stops spending upstream tokens and frees its bulkhead slot.
 *
 * @example
 * const options = inboundCallOptions(req, res);
 * await llm.chat(body, options);
 */
export function inboundCallOptions(
  req: PlatformRequest,
  res: ServerResponse,
  /** The request's LLM context's, when the caller has it at hand. */
  contextRequestId?: string,
): InboundCallOptions {
  // The module's context interceptor already chose the request id (and user and feature); the
  // header is read only without it.
  const requestId = contextRequestId ?? requestIdOf(req);
  // Written with the answer's other headers (sendJson, writeHead), whichever answer it gets.
  holdHeader(res, 'x-request-id', requestId);
  return { requestId, signal: clientAbortSignal(res) };
}

/**
 * Holds an `x-request-id` for an answer that did not get one from a call (an error the guard or
 * the exception filter sends, the model list): the one already held, else the context's, else
 * the caller's well-formed one, else a new one. OpenAI sends one on every answer, and SDKs read
 * it into their errors (`requestID`).
 *
 * @example
 * requestIdFor(req, res); // then sendJson(res, ...) carries it
 */
export function requestIdFor(req: PlatformRequest, res: ServerResponse): string {
  const held = heldHeader(res, 'x-request-id');
  if (held !== undefined) return held;
  const requestId = requestIdOf(req);
  holdHeader(res, 'x-request-id', requestId);
  return requestId;
}

/** The request's id: its LLM context's, else the caller's well-formed one, else a new one. */
export function requestIdOf(req: PlatformRequest): string {
  return currentLlmContext()?.requestId ?? givenOrNewId(req);
}

function givenOrNewId(req: PlatformRequest): string {
  const given = header(req, 'x-request-id');
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

function header(req: PlatformRequest, name: string): string | undefined {
  const value = rawRequest(req).headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim() || undefined;
}
