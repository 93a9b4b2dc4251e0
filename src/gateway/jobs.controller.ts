import { Controller, Delete, Get, Param, Req, Res, UseInterceptors } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import {
  clientAbortSignal,
  LlmDrain,
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

/** Long polls held at once; past it, `Prefer: wait` is not applied (the state is answered now). */
export const MAX_JOB_WAITERS = 1_000;

/**
 * The jobs `POST /v1/chat/completions` with `Prefer: respond-async` created: read, wait for and
 * cancel them. Only the caller that created a job sees it (same credentials and user id); any
 * other caller gets 404, as for a job that does not exist.
 *
 * Long polls are part of the drain: when it begins (SIGTERM), each one is answered at once with
 * the job's state, as a plain GET would be, and a new one is not held; a long poll is no LLM call,
 * so without this it waited on until the server closed and cut it with no answer.
 */

// The LLM context, as on every route (the gateway's module interceptor is not global: see
// ChatCompletionsController).
@UseInterceptors(LlmContextInterceptor)
@Controller('v1/jobs')
export class JobsController {
  /** The long polls held now, each stopped (then answered) by aborting its controller. */
  private readonly waiting = new Set<AbortController>();

  constructor(
    private readonly jobs: LlmJobs,
    private readonly drain: LlmDrain,
  ) {
    drain.stopIntakeOnDrain('gateway job long polls', () => {
      for (const waiter of this.waiting) waiter.abort();
    });
  }

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
    // Draining, none is held: the state is answered now.
    const waitS =
      preferred && !this.drain.draining && this.waiting.size < MAX_JOB_WAITERS
        ? preferred
        : undefined;
    const drained = new AbortController();
    if (waitS) this.waiting.add(drained);
    try {
      const job = waitS
        ? await this.jobs.wait(id, {
            owner,
            timeoutMs: waitS * 1000,
            signal: AbortSignal.any([clientAbortSignal(res), drained.signal]),
          })
        : await this.jobs.get(id, { owner });
      // Cut short by the drain: answered as a plain GET, the wait not honoured.
      const applied = waitS && !drained.signal.aborted;
      this.send(res, job, applied ? { 'preference-applied': `wait=${waitS}` } : {});
    } catch (error) {
      sendJobsError(res, error);
    } finally {
      this.waiting.delete(drained);
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
