import { Inject, Injectable } from '@nestjs/common';
import type { CallRecord } from '../call/call-record';
import type { ChatCompletion } from '../call/chat.types';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import type { ResolvedLlmOptions, ResolvedUpstream } from '../llm-module.options';
import { LlmTelemetry } from '../observability/llm-telemetry';
import { isLlmError, type LlmError } from '../resilience/llm.errors';
import { shouldFallBack } from './fallback.policy';
import type { LlmCall } from './llm-call';
import { responseInfo } from './response-info';

/**
 * The fallback chain, inside the call's deadline: runs the rest of the call path against the
 * requested upstream and model, then along its chain (`fallbacks` of the requested upstream)
 * while the failure is one another target may not have ({@link shouldFallBack}). Its last step,
 * for plain calls, is the application's `lastResort`.
 */
@Injectable()
export class FallbackChain {
  constructor(
    private readonly telemetry: LlmTelemetry,
    @Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions,
  ) {}

  /**
   * Runs `toTarget` against the call's targets in turn; the record says which target the call is
   * at. `mayWaitForCircuit`: an open circuit is worth waiting for only when no fallback is left
   * to answer sooner.
   */
  run<T>(call: LlmCall<T>, toTarget: (mayWaitForCircuit: boolean) => Promise<T>): Promise<T> {
    const chain = this.chainOf(call.record);
    // No chain (the default): the one target's outcome is the call's, as the loop below gives it.
    return chain.length === 0 ? toTarget(true) : this.along(call, chain, toTarget);
  }

  private async along<T>(
    call: LlmCall<T>,
    chain: readonly FallbackHop[],
    toTarget: (mayWaitForCircuit: boolean) => Promise<T>,
  ): Promise<T> {
    const { record, deadline } = call;
    // A target is tried once: a `'*'` chain that names the model asked for skips it.
    const tried = new Set([targetKey(record.upstream.name, record.model)]);
    const targetOf = (hop: FallbackHop) =>
      targetKey(hop.upstream, hop.model ?? record.requestedModel);
    for (let next = 0; ; next++) {
      try {
        return await toTarget(chain.slice(next).every((hop) => tried.has(targetOf(hop))));
      } catch (error) {
        if (!isLlmError(error) || deadline.signal.aborted) throw error;
        // The next target this failure allows: an auth failure skips the same upstream's models.
        const at = chain.findIndex(
          (hop, i) =>
            i >= next &&
            !tried.has(targetOf(hop)) &&
            shouldFallBack(error, { sameUpstream: hop.upstream === record.upstream.name }),
        );
        const hop = chain[at];
        if (!hop) throw error;
        next = at;
        tried.add(targetOf(hop));
        const upstream = this.options.upstreams.get(hop.upstream)!;
        // A target without a model keeps the model the caller asked for.
        const model = hop.model ?? record.requestedModel;
        this.telemetry.fallback(record, record.moveTo(upstream, model, error.kind));
      }
    }
  }

  /**
   * The chain's last step: the application's degraded answer, when it has one and the failure
   * allows it; otherwise the failure stands.
   */
  async lastResort(call: LlmCall<ChatCompletion>, error: unknown): Promise<ChatCompletion> {
    const { record } = call;
    const lastResort = this.options.lastResort;
    if (!lastResort || !canDegrade(error)) throw error;
    let completion: ChatCompletion;
    try {
      completion = await lastResort({ request: record.request, error, call: record });
    } catch {
      throw error; // the function declined: the original failure stands
    }
    this.telemetry.fallback(record, record.degrade(error.kind));
    record.response = responseInfo(completion, record.upstream.secrets);
    return completion;
  }

  private chainOf(record: CallRecord): readonly FallbackHop[] {
    const { fallbacks } = record.requestedUpstream;
    // Own keys only: the model is the caller's, and `constructor` or `toString` must not find
    // Object.prototype's.
    const chain = (model: string) =>
      Object.hasOwn(fallbacks, model) ? fallbacks[model] : undefined;
    return chain(record.requestedModel) ?? chain('*') ?? NO_CHAIN;
  }
}

/** Whether the last-resort function may answer for this failure. */
function canDegrade(error: unknown): error is LlmError {
  return isLlmError(error) && shouldFallBack(error, { sameUpstream: false });
}

/** One target of a resolved chain. */
type FallbackHop = ResolvedUpstream['fallbacks'][string][number];

const NO_CHAIN: readonly FallbackHop[] = [];

function targetKey(upstream: string, model: string): string {
  return `${upstream}\u0000${model}`;
}
