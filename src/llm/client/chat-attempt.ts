import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LlmError } from '../resilience/llm.errors';
import { isInstrumented } from '../transport/http-telemetry';
import { AttemptTimeout } from './attempt-timeout.layer';
import { MAX_ERROR_BODY_BYTES, readWholeBody, receivedBody } from '../transport/read-body';
import { classifyStreamErrorEvent } from '../resilience/error-classifier';
import { type ChatCompletion } from '../call/chat.types';
import type { AttemptRecord } from '../call/call-record.types';
import type { UpstreamResponse } from '../transport/llm-http.transport';
import { type ChatAttemptInput, sendChatRequest } from './send-chat-request';
import { holdReceivedJson, keepHeldJson } from './received-json';
import { responseInfo } from './response-info';
import { MAX_ANSWER_DEPTH, nestsDeeperThan } from '../transport/json-depth.scan';

/**
 * One plain (non-stream) attempt: the attempt timeout covers the whole response, headers and
 * body, because a provider that never finishes the body is as stuck as one that never answers.
 * A successful answer's headers are recorded (`AttemptRecord.responseHeaders`), and its timeout
 * disposed, once the call path handed the completion over (`AttemptContext.afterAnswer`), before
 * the attempt is settled with the limiter or reported; a failed one's before the attempt fails.
 */
export async function sendChatAttempt(input: ChatAttemptInput): Promise<ChatCompletion> {
  const { upstream, model, context } = input;
  const timeout = new AttemptTimeout(context.deadline.signal);
  let response: UpstreamResponse | undefined;
  let succeeded = false;
  try {
    const sending = sendChatRequest(input, timeout.signal, 'text');
    // Its timer set once the request is written (the same timeout: see armAfterSend).
    timeout.armAfterSend('attempt_timeout', upstream.timeouts.attemptMs);
    response = await sending;
    // A body that came with the headers is taken at once; one still arriving is waited for.
    const { body } = response;
    const text =
      typeof body === 'string'
        ? body
        : ((httpTraced() ? undefined : receivedBody(body)) ?? (await readWholeBody(body)));
    const completion = parseCompletion(
      text,
      response.requestId,
      upstream.name,
      model,
      upstream.secrets,
    );
    context.record.response = responseInfo(completion, upstream.secrets);
    context.afterAnswer = afterAnswer(timeout, context.attempt, response);
    succeeded = true;
    return completion;
  } catch (error) {
    // A completion held for the relay and then failed (its response info): into the map.
    keepHeldJson();
    // A 2xx answer that failed here (its body): its headers are recorded before the failure is.
    if (response !== undefined) context.attempt.responseHeaders ??= response.headers;
    throw timeout.toError(error, context.deadline, {
      upstream: upstream.name,
      model,
      attempts: context.attempt.number,
    });
  } finally {
    // A success's timeout is disposed once its completion is handed over (see afterAnswer).
    if (!succeeded) timeout.dispose();
  }
}

/**
 * What a successful attempt leaves for after its completion is handed over (the caller's answer
 * written, with `chatAnswering`), in the same turn: its timeout's disposal (its timer and its link
 * to the call's deadline, which cannot fire or abort before: both come on a later turn) and its
 * answer's headers on the attempt's record, for the rate limiter's settle and the attempt's end
 * (the record built then: see `UpstreamResponse.headers`).
 */
function afterAnswer(
  timeout: AttemptTimeout,
  attempt: AttemptRecord,
  response: UpstreamResponse,
): () => void {
  return () => {
    keepHeldJson();
    timeout.dispose();
    attempt.responseHeaders = response.headers;
  };
}

/**
 * Whether OpenTelemetry's HTTP instrumentation wraps Node's `request`: its client span ends at the
 * body's `end`, which a body taken at once ({@link receivedBody}) emits only on the next tick,
 * after the attempt's and the call's spans ended. With it, the body is read as before, so the
 * HTTP span still ends inside the attempt's.
 */
function httpTraced(): boolean {
  return isInstrumented(httpRequest) || isInstrumented(httpsRequest);
}

function parseCompletion(
  text: string,
  requestId: string | undefined,
  upstream: string,
  model: string,
  secrets: readonly (string | undefined)[],
): ChatCompletion {
  if (nestsDeeperThan(text, MAX_ANSWER_DEPTH)) {
    // Refused before `JSON.parse`, which spent seconds of the event loop on 30 MB of brackets.
    throw new LlmError(
      'invalid_response',
      `Upstream '${upstream}' model '${model}' answered 200 with a body that nests arrays and ` +
        `objects more than ${MAX_ANSWER_DEPTH} levels deep (${text.length} bytes); not parsed.`,
      { upstream, model, status: 200, requestId },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const choices = (json as { choices?: unknown } | undefined)?.choices;
  if (typeof json === 'object' && json !== null && (json as { error?: unknown }).error) {
    // A 200 carrying an error (some proxies and gateways answer so): the provider's own words,
    // classified as the error response it stands for.
    throw classifyStreamErrorEvent(
      text.slice(0, MAX_ERROR_BODY_BYTES),
      upstream,
      model,
      secrets,
      requestId,
      'answered 200 with an error',
    );
  }
  if (typeof json !== 'object' || json === null || !Array.isArray(choices)) {
    throw new LlmError(
      'invalid_response',
      `Upstream '${upstream}' model '${model}' answered 200 with a body that is not a chat ` +
        `completion (${json === undefined ? 'invalid JSON' : 'no choices array'}, ${text.length} bytes).`,
      { upstream, model, status: 200, requestId },
    );
  }
  // Kept for the relay (`receivedJson`); moved into its map after the answer (afterAnswer).
  holdReceivedJson(json, text);
  return json as ChatCompletion;
}
