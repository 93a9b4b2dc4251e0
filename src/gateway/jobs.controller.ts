import { Controller, Delete, Get, Param, Req, Res, UseInterceptors } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import {
  clientAbortSignal,
  LlmJob,
  LlmJobs,
  TERMINAL_JOB_STATES,
  LlmContextInterceptor,
} from '../llm/index';
import { callerIdentity } from './caller-identity';
import {
  PlatformRequest,
  PlatformResponse,
  rawRequest,
  rawResponse,
  sendJson,
} from './http-exchange';
import { requestIdFor } from './inbound-call.options';
import { jobResource, retryAfterSeconds } from './job.resource';
import { sendJobsError } from './jobs-error.reply';
import { preferences } from './prefer.header';

/**
 * The jobs `POST /v1/chat/completions` with `Prefer: respond-async` created: read, wait for and
 * cancel them. Only the caller that created a job sees it (same credentials and user id); any
 * other caller gets 404, as for a job that does not exist.
 */
/** Long polls held at once; past it, `Prefer: wait` is not applied (the state is answered now). */
export const MAX_JOB_WAITERS = 1_000;

// The LLM context, as on every route (the gateway's module interceptor is not global: see
// ChatCompletionsController).
@UseInterceptors(LlmContextInterceptor)
@Controller('v1/jobs')
export class JobsController {
  private waiters = 0;

  constructor(private readonly jobs: LlmJobs) {}

  /**
   * The job's state. With `Prefer: wait=<seconds>` (RFC 7240, at most 60) the answer waits until
   * the job ends or that time passes: a long poll, without polling. An unfinished job comes with
   * `Retry-After`.
   *
   * @example
   * curl localhost:3000/v1/jobs/$ID -H 'Prefer: wait=30'
   */
  @Get(':id')
  async get(
    @Param('id') id: string,
    @Req() req: PlatformRequest,
    @Res() reply: PlatformResponse,
  ): Promise<void> {
    const res = rawResponse(reply);
    requestIdFor(req, res); // every answer carries one, as the chat route's do
    const owner = callerIdentity(req);
    const preferred = preferences(rawRequest(req)).waitS;
    // Each long poll holds a connection and a listener: bounded, as any caller-driven resource.
    const waitS = preferred && this.waiters < MAX_JOB_WAITERS ? preferred : undefined;
    if (waitS) this.waiters++;
    try {
      const job = waitS
        ? await this.jobs.wait(id, {
            owner,
            timeoutMs: waitS * 1000,
            signal: clientAbortSignal(res),
          })
        : await this.jobs.get(id, { owner });
      this.send(res, job, waitS ? { 'preference-applied': `wait=${waitS}` } : {});
    } catch (error) {
      sendJobsError(res, error);
    } finally {
      if (waitS) this.waiters--;
    }
  }

  /** Cancels the job unless it already ended; answers with its state after. */
  @Delete(':id')
  async cancel(
    @Param('id') id: string,
    @Req() req: PlatformRequest,
    @Res() reply: PlatformResponse,
  ): Promise<void> {
    const res = rawResponse(reply);
    requestIdFor(req, res);
    try {
      this.send(res, await this.jobs.cancel(id, { owner: callerIdentity(req) }));
    } catch (error) {
      sendJobsError(res, error);
    }
  }

  private send(res: ServerResponse, job: LlmJob, headers: Record<string, string> = {}): void {
    const unfinished = !TERMINAL_JOB_STATES.has(job.state);
    sendJson(res, 200, jobResource(job), {
      ...headers,
      ...(unfinished ? { 'retry-after': String(retryAfterSeconds(job)) } : {}),
    });
  }
}
