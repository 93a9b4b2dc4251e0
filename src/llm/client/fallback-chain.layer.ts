import { Inject, Injectable } from '@nestjs/common';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions } from '../llm-module.options';
import { LlmTelemetry } from '../observability/llm-telemetry';
import { isLlmError, LlmError } from '../resilience/llm.errors';
import { CallPipeline, CallSpec, CallTarget } from './call-path';
import { CallRecord } from '../call/call-record';
import { movesOn } from './fallback.policy';

/** The parts of a pipeline run that depend on the target (upstream and model) being called. */
export type TargetSpec<T> = Omit<CallSpec<T>, 'record' | 'deadline'>;

/**
 * One logical call: it starts and ends the call for telemetry, and runs the pipeline against the
 * requested upstream and model, then along its fallback chain while the failure is one another
 * target may not have, all within the call's one deadline.
 */
@Injectable()
export class CallRunner {
  constructor(
    private readonly pipeline: CallPipeline,
    private readonly telemetry: LlmTelemetry,
    @Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions,
  ) {}

  start(record: CallRecord): void {
    this.telemetry.callStarted(record);
  }

  /** Ends the call once, successfully or with the error the caller gets. */
  end(record: CallRecord, error?: unknown): void {
    if (record.endedAt !== undefined) return;
    record.end(isLlmError(error) ? error : undefined);
    this.telemetry.callEnded(record);
  }

  /**
   * Runs the call against its targets in turn. `spec` is asked again for every target, since
   * the body names the model.
   */
  async through<T>(target: CallTarget, spec: (record: CallRecord) => TargetSpec<T>): Promise<T> {
    const { record, deadline } = target;
    const chain = this.chainOf(record);
    // A target is tried once: a `'*'` chain that names the model asked for skips it.
    const tried = new Set([targetKey(record.upstream.name, record.model)]);
    const targetOf = (hop: (typeof chain)[number]) =>
      targetKey(hop.upstream, hop.model ?? record.requestedModel);
    for (let next = 0; ; next++) {
      try {
        // An open circuit is worth waiting for only when no fallback is left to answer sooner.
        const mayWaitForCircuit = chain.slice(next).every((hop) => tried.has(targetOf(hop)));
        return await this.pipeline.run({ ...target, ...spec(record), mayWaitForCircuit });
      } catch (error) {
        if (!isLlmError(error) || deadline.signal.aborted) throw error;
        // The next target this failure allows: an auth failure skips the same upstream's models.
        const at = chain.findIndex(
          (hop, i) =>
            i >= next &&
            !tried.has(targetOf(hop)) &&
            movesOn(error, { sameUpstream: hop.upstream === record.upstream.name }),
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

  /** Whether the last-resort function may answer for this failure. */
  canDegrade(error: unknown): error is LlmError {
    return (
      Boolean(this.options.lastResort) &&
      isLlmError(error) &&
      movesOn(error, { sameUpstream: false })
    );
  }

  private chainOf(record: CallRecord) {
    const { fallbacks } = record.requestedUpstream;
    return fallbacks[record.requestedModel] ?? fallbacks['*'] ?? [];
  }
}

function targetKey(upstream: string, model: string): string {
  return `${upstream}\u0000${model}`;
}
