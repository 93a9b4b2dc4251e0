import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_API_KEY, isAuthorized, redactHeaders } from './api-key.check';
import { processingHeaders, sendReply, type ReplyTarget } from './chat-reply.sender';
import { isChatRequest, parseChatRequest } from './chat-request.parser';
import { buildReply, promptTokens } from './completion.factory';
import { parseJson, readBody, sendError, sendJson, sleep } from './http.io';
import { defaultErrorFor } from './openai-error.body';
import type { RateSnapshot } from './rate-limit.enforcer';
import {
  azureRateHeaders,
  azureRateLimitedReply,
  openAiRateHeaders,
  openAiRateLimitedReply,
} from './rate-limit.reply';
import { respondWithStep } from './sim-step.responder';
import type { SimulatorState } from './simulator.state';
import type { RecordedRequest } from './simulator.types';

// What the TPM check counts for a request without max_tokens, since its reply size is unknown.
const DEFAULT_COMPLETION_TOKENS = 16;

/**
 * `POST /v1/chat/completions`, in OpenAI's order: record, authenticate, validate; then an outage,
 * a scripted step, the rate limits, the latency and finally the normal answer.
 *
 * @example
 * await handleChatCompletions(req, res, '/v1/chat/completions', state, signal, Date.now());
 */
export async function handleChatCompletions(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  state: SimulatorState,
  signal: AbortSignal,
  startedAt: number,
): Promise<void> {
  const raw = await readBody(req);
  const body = parseJson(raw);
  const recorded: RecordedRequest = {
    at: startedAt,
    method: req.method ?? 'POST',
    path,
    headers: redactHeaders(req.headers),
    body: body ?? raw,
    hadAuthorization: req.headers.authorization !== undefined,
  };
  state.record(recorded, raw.length);
  // The status is known once the headers go out, whatever answered (outage, step, limit, reply).
  res.once('finish', () => (recorded.status = res.statusCode));
  res.once('close', () => (recorded.status ??= res.headersSent ? res.statusCode : undefined));
  const { config } = state;
  if (!isAuthorized(req.headers, config.apiKey)) return sendError(res, 401, INVALID_API_KEY);
  const request = parseChatRequest(body);
  if (!isChatRequest(request)) return sendError(res, 400, request);
  const target: ReplyTarget = { res, request, signal, startedAt };

  const outage = state.outageStatus();
  if (outage !== undefined) {
    return sendError(res, outage, defaultErrorFor(outage), processingHeaders(target));
  }
  const step = state.queue.take();
  if (step) {
    recorded.step = step.type;
    return respondWithStep(step, target, config);
  }
  await answerNormally(target, state);
}

async function answerNormally(target: ReplyTarget, state: SimulatorState): Promise<void> {
  const { res, request, signal } = target;
  const { config } = state;
  // Without limits there is nothing to count: the benchmarks' zero-cost upstream stays zero-cost.
  const limits = state.limits;
  const enforcer = limits && state.rateEnforcer(limits);
  // As at OpenAI, each of the `n` choices may use up to the maximum.
  const completion = (request.maxTokens ?? DEFAULT_COMPLETION_TOKENS) * request.choices;
  const estimate = promptTokens(request) + completion;
  const rejection = limits && enforcer?.check(limits, estimate);
  const azure = config.provider === 'azure';
  if (rejection) {
    const model = request.model ?? config.models[0] ?? 'gpt-4o-mini';
    const reply = azure
      ? azureRateLimitedReply(rejection)
      : openAiRateLimitedReply(rejection, model);
    return sendJson(res, 429, reply.body, { ...processingHeaders(target), ...reply.headers });
  }
  // Admitted before the latency, so requests in flight count against the budget as at OpenAI.
  const admission = limits && enforcer?.admit(limits, estimate);
  const headers = limits && enforcer ? rateHeaders(enforcer.snapshot(limits), azure) : {};
  if (!(await sleep(config.latencyMs, signal))) return;
  const reply = buildReply(request, config.models);
  admission?.settle(reply.usage.total_tokens);
  await sendReply(target, reply, headers);
}

function rateHeaders(snapshot: RateSnapshot, azure: boolean): Record<string, string> {
  return azure ? azureRateHeaders(snapshot) : openAiRateHeaders(snapshot);
}
