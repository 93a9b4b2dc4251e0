import type { ServerResponse } from 'node:http';
import { isLlmJobsError } from '../llm/index';
import { sendJson } from './http-exchange';
import { openAiError, type OpenAiErrorReply } from './openai-error.body';

/** An {@link LlmJobsError} as an OpenAI-shaped reply; undefined for any other error. */
export function jobsErrorReply(error: unknown): OpenAiErrorReply | undefined {
  if (!isLlmJobsError(error)) return undefined;
  switch (error.code) {
    case 'LLM_JOB_NOT_FOUND':
      return openAiError(404, 'invalid_request_error', error.message, { code: 'job_not_found' });
    case 'LLM_JOB_INVALID':
      return openAiError(400, 'invalid_request_error', error.message, {
        param: error.param ?? null,
        code: 'invalid_job',
      });
    case 'LLM_JOBS_STATE_UNAVAILABLE':
      return openAiError(503, 'service_unavailable_error', error.message, {
        code: 'job_state_unavailable',
        // Its store or broker did not answer: the kind of an upstream that did not.
        headers: { 'retry-after': '2', 'x-llm-error-kind': 'network' },
      });
    case 'LLM_JOBS_BROKER_UNAVAILABLE':
      return openAiError(503, 'service_unavailable_error', error.message, {
        code: 'job_queue_unavailable',
        headers: { 'retry-after': '2', 'x-llm-error-kind': 'network' },
      });
  }
}

/** Sends the reply of a jobs error, or rethrows anything else to the error filter. */
export function sendJobsError(res: ServerResponse, error: unknown): void {
  const reply = jobsErrorReply(error);
  if (!reply) throw error;
  sendJson(res, reply.status, reply.body, reply.headers);
}
