import type { ServerResponse } from 'node:http';
import type { ChatCompletionRequest, LlmJobs } from '../llm/index';
import { callerIdentity } from './caller-identity';
import type { InboundCallOptions } from './inbound-call.options';
import { sendJson, type PlatformRequest } from './http-exchange';
import { jobResource } from './job.resource';
import { sendJobsError } from './jobs-error.reply';
import { InvalidRequestError } from './invalid-request.error';

/**
 * `Prefer: respond-async` (RFC 7240): the chat request becomes a durable job, answered at once
 * with `202 Accepted`, `Location: /v1/jobs/{id}` and the job; `Preference-Applied` says so.
 */
export async function acceptAsync(
  jobs: LlmJobs,
  req: PlatformRequest,
  res: ServerResponse,
  request: ChatCompletionRequest,
  options: InboundCallOptions,
): Promise<void> {
  if (request.stream === true) {
    throw new InvalidRequestError(
      "'stream' cannot be combined with 'Prefer: respond-async': a job's completion is read " +
        'from /v1/jobs/{id} once done. Send the request without "stream": true.',
      'stream',
    );
  }
  try {
    // The user and feature come from the request's context, as for a synchronous call.
    const job = await jobs.enqueue(request, {
      owner: callerIdentity(req),
      requestId: options.requestId,
    });
    sendJson(res, 202, jobResource(job), {
      location: `/v1/jobs/${job.id}`,
      'preference-applied': 'respond-async',
      'retry-after': '1',
    });
  } catch (error) {
    sendJobsError(res, error);
  }
}
