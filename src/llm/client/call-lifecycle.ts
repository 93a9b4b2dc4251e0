import { MAX_TIMER_MS } from '../resilience/timer-lists';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CallRecord } from '../call/call-record';
import type { ChatCompletionRequest, LlmCallContext, LlmCallOptions } from '../call/chat.types';
import { LlmDrain } from '../lifecycle/llm-drain';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import type { ResolvedLlmOptions, ResolvedUpstream } from '../llm-module.options';
import { currentLlmContext } from '../observability/llm-context.storage';
import { LlmTelemetry } from '../observability/llm-telemetry';
import { tracerProviderRegistered } from '../observability/llm-tracing';
import { CallDeadline } from '../resilience/call-deadline';
import { isLlmError } from '../resilience/llm.errors';
import {
  badCallOptionsError,
  badDeadlineError,
  callOptionsProblem,
  unknownUpstreamError,
} from './call-options.errors';
import type { OpenCall } from './llm-call';
import { validateChatRequest } from './validate-chat-request';

/**
 * Opens and closes logical calls: the record that telemetry reads and the one deadline that the
 * call path runs within (see `call-path.ts`).
 */
@Injectable()
export class CallLifecycle {
  constructor(
    @Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions,
    private readonly telemetry: LlmTelemetry,
    private readonly drain: LlmDrain,
  ) {}

  /** Names of the configured upstreams, the default first. */
  get upstreamNames(): string[] {
    const { upstreams, defaultUpstream } = this.options;
    return [defaultUpstream, ...[...upstreams.keys()].filter((n) => n !== defaultUpstream)];
  }

  /**
   * Checks the request and options, then starts the call: its record (with the request's
   * context) and its deadline, which shutdown waits for until the call is closed.
   */
  open(request: ChatCompletionRequest, options: LlmCallOptions, stream: boolean): OpenCall {
    // `null` is no options, as `undefined` is; anything else not an object is a mistake.
    options ??= {};
    if (typeof options !== 'object') throw badCallOptionsError('options', 'an object', options);
    if (options.signal !== undefined && !isAbortSignal(options.signal)) {
      throw badCallOptionsError('signal', 'an AbortSignal', options.signal);
    }
    const optionsProblem = callOptionsProblem(options);
    if (optionsProblem) throw optionsProblem;
    const upstream = this.upstream(options.upstream);
    validateChatRequest(request, upstream.name);
    const model =
      typeof request.model === 'string' && request.model ? request.model : upstream.defaultModel;
    const deadlineMs = options.deadlineMs ?? upstream.timeouts.deadlineMs;
    if (!(Number.isFinite(deadlineMs) && deadlineMs > 0 && deadlineMs <= MAX_TIMER_MS)) {
      throw badDeadlineError(deadlineMs, upstream.name);
    }
    // Explicit options win over the request's context (a job may act for another user).
    const ambient = currentLlmContext();
    const context: LlmCallContext = {
      userId: options.userId ?? ambient?.userId,
      featureName: options.featureName ?? ambient?.featureName,
      requestId: options.requestId ?? ambient?.requestId,
    };
    // Set only when given (no key otherwise), without a spread object per call.
    if (options.jobId !== undefined) context.jobId = options.jobId;
    if (options.queueWaitMs !== undefined) context.queueWaitMs = options.queueWaitMs;
    const record = new CallRecord({
      upstream,
      model,
      clientRequestId: options.clientRequestId ?? randomUUID(),
      stream,
      context,
      request,
    });
    const deadline = new CallDeadline(deadlineMs, options.signal);
    // Until the deadline is disposed (the call, or the stream, is over) shutdown waits for it.
    this.drain.track(deadline, upstream.name);
    ambient?.calls.push(record);
    // Reported after its first request's write (see LlmTelemetry.callStarted), unless spans
    // record: a span takes its start time when it is started.
    this.telemetry.callStarted(record, tracerProviderRegistered() ? undefined : deadline);
    return { record, deadline };
  }

  /**
   * Closes the call once: ends it, successfully or with the error the caller gets, and reports
   * its end (a successful attempt held for it first: see `OpenCall.reportsAfterAnswer`).
   */
  close(call: OpenCall, error?: unknown): void {
    const { record } = call;
    if (record.endedAt === undefined) {
      record.end(isLlmError(error) ? error : undefined);
      this.report(call);
    } else if (call.reportsAfterAnswer) {
      // Ended by answered() before the answer: reported now, once.
      call.reportsAfterAnswer = false;
      this.report(call);
    }
    call.deadline.dispose();
  }

  /**
   * Ends a successful call's record before its caller answers (`LlmClient.chatAnswering`): the
   * result and its metadata are as `close` would leave them; `close` reports the end afterwards.
   */
  answered(call: OpenCall): void {
    call.record.end(undefined);
  }

  /**
   * Whether a call may be reported after its answer: not while a tracer provider is registered,
   * whose spans record when they end (the call's and its attempt's then end before the answer).
   */
  mayReportAfterAnswer(): boolean {
    return !tracerProviderRegistered();
  }

  private report(call: OpenCall): void {
    const { record, heldAttempt } = call;
    if (heldAttempt !== undefined) {
      call.heldAttempt = undefined;
      this.telemetry.attemptEnded(record, heldAttempt);
    }
    this.telemetry.callEnded(record);
  }

  private upstream(name: string | undefined): ResolvedUpstream {
    const upstream = this.options.upstreams.get(name ?? this.options.defaultUpstream);
    if (!upstream) throw unknownUpstreamError(name, this.upstreamNames);
    return upstream;
  }
}

/** An AbortSignal by its shape (one from another realm fails `instanceof`). */
function isAbortSignal(value: unknown): value is AbortSignal {
  const signal = value as Partial<AbortSignal> | null;
  return (
    typeof signal === 'object' &&
    signal !== null &&
    typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function'
  );
}
