import { RateEnforcer, type RateLimits } from './rate-limit.enforcer';
import type { RecordedRequest, SimConfig, SimOutage, SimulatorOptions } from './simulator.types';
import { StepQueue } from './step.queue';

/** The config in force; an outage is state, not config, so it lives beside it. */
export type ResolvedConfig = Omit<SimConfig, 'outage'>;

/** Models listed when none are configured: the cheap default first, as OpenAI users expect. */
export const DEFAULT_MODELS: readonly string[] = ['gpt-4o-mini', 'gpt-4o'];

/** Fills in the defaults of every config field. */
export function resolveConfig(options: SimulatorOptions): ResolvedConfig {
  return {
    latencyMs: options.latencyMs ?? 0,
    rpm: options.rpm,
    tpm: options.tpm,
    enforcement: options.enforcement ?? 'sliding',
    windowMs: options.windowMs ?? 60_000,
    intervalMs: options.intervalMs ?? 1_000,
    burstMs: options.burstMs ?? 1_000,
    provider: options.provider ?? 'openai',
    apiKey: options.apiKey,
    models: [...(options.models ?? DEFAULT_MODELS)],
  };
}

/** The config as the control API shows it: whether a key is set, never the key. */
export type PublicConfig = Omit<ResolvedConfig, 'apiKey'> & {
  hasApiKey: boolean;
  outage: { status: number; until: number } | null;
};

/** Recorded requests kept (the most recent); tests see every request they make. */
export const MAX_RECORDED_REQUESTS = 10_000;

/**
 * Bytes of recorded bodies kept (the most recent requests'; the newest is always kept): ten
 * thousand 9 MB prompts would otherwise hold 90 GB, and `GET /_sim/requests` serialise it all.
 */
export const MAX_RECORDED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Everything a simulator remembers between requests: config, script, rate-limit window,
 * outage and the requests received. Inputs are validated before they get here.
 */
export class SimulatorState {
  readonly queue = new StepQueue();
  private enforcer: { key: string; enforcer: RateEnforcer } | undefined;
  private current: ResolvedConfig;
  private recorded: RecordedRequest[] = [];
  /** The body size of each recorded request, in the same order, and their sum. */
  private sizes: number[] = [];
  private recordedBytes = 0;
  private outage: { status: number; until: number } | undefined;

  constructor(private readonly initial: ResolvedConfig) {
    this.current = { ...initial, models: [...initial.models] };
  }

  get config(): Readonly<ResolvedConfig> {
    return this.current;
  }

  /** The limits in force, or `undefined` when neither `rpm` nor `tpm` is set. */
  get limits(): RateLimits | undefined {
    const { rpm, tpm, enforcement, windowMs, intervalMs, burstMs } = this.current;
    if (!rpm && !tpm) return undefined;
    return { rpm, tpm, enforcement, windowMs, intervalMs, burstMs };
  }

  /**
   * What counts admissions under `limits`. It lives across config changes that keep the same
   * counting (a new rpm), and starts empty when the mode, window or interval changes.
   */
  rateEnforcer(limits: RateLimits): RateEnforcer {
    const key = RateEnforcer.keyOf(limits);
    if (this.enforcer?.key !== key) this.enforcer = { key, enforcer: new RateEnforcer(limits) };
    return this.enforcer.enforcer;
  }

  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  /** Keeps `request` (whose body was `bodyBytes` long), dropping the oldest past the bounds. */
  record(request: RecordedRequest, bodyBytes = 0): void {
    // Bounded: a simulator left running for a demo or a benchmark must not grow without end.
    this.recorded.push(request);
    this.sizes.push(bodyBytes);
    this.recordedBytes += bodyBytes;
    while (
      this.recorded.length > 1 &&
      (this.recorded.length > MAX_RECORDED_REQUESTS || this.recordedBytes > MAX_RECORDED_BODY_BYTES)
    ) {
      this.recorded.shift();
      this.recordedBytes -= this.sizes.shift()!;
    }
  }

  /** Applies a validated patch; `outage` starts or (when `undefined`) ends an outage. */
  configure(patch: Partial<SimConfig>): void {
    const { outage, ...config } = patch;
    this.current = { ...this.current, ...config };
    if (!('outage' in patch)) return;
    if (outage) this.startOutage({ status: outage.status ?? 503, durationMs: outage.durationMs });
    else this.outage = undefined;
  }

  startOutage(outage: Required<SimOutage>): void {
    this.outage = { status: outage.status, until: Date.now() + outage.durationMs };
  }

  /** The status every chat request answers with right now, if an outage is running. */
  outageStatus(now = Date.now()): number | undefined {
    if (this.outage && now >= this.outage.until) this.outage = undefined;
    return this.outage?.status;
  }

  /** Back to the config given at start (keeping the current apiKey), with nothing queued. */
  reset(): void {
    this.current = {
      ...this.initial,
      models: [...this.initial.models],
      apiKey: this.current.apiKey,
    };
    this.queue.clear();
    this.enforcer = undefined;
    this.outage = undefined;
    // A new array, so a caller still holding the old list keeps its history.
    this.recorded = [];
    this.sizes = [];
    this.recordedBytes = 0;
  }

  publicConfig(): PublicConfig {
    const { apiKey, ...config } = this.current;
    this.outageStatus();
    return { ...config, hasApiKey: apiKey !== undefined, outage: this.outage ?? null };
  }
}
