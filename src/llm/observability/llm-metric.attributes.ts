import { Logger } from '@nestjs/common';
import type { Attributes } from '@opentelemetry/api';
import type { CallRecord } from '../call/call-record';
import type { ResolvedUpstream } from '../llm-module.options';
import { callAttributes } from './llm-call.attributes';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_LLM_FEATURE,
  ATTR_LLM_OUTCOME,
  ATTR_LLM_RETRY_DELAY_SOURCE,
  ATTR_LLM_RETRY_REASON,
  ATTR_LLM_UPSTREAM,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
} from './llm.semconv';

/** Distinct feature or model values kept as labels; later ones are recorded as `other`. */
export const MAX_LABEL_VALUES = 64;

/**
 * Distinct (model, feature) pairs kept per upstream: each label is bounded alone, but their
 * product (64 × 64) would still be thousands of series per instrument. Past it, a new pair is
 * recorded with feature `other` (its model kept when that pair exists), else as model and feature
 * `other`.
 */
export const MAX_LABEL_PAIRS = 128;

/** Longest label value; longer ones are cut and end in `…`. */
export const MAX_LABEL_LENGTH = 64;

/** The feature label of calls made outside any feature. */
export const UNKNOWN_FEATURE = 'unknown';

/**
 * Keeps a label's distinct values bounded. Feature and model names can come from inbound
 * requests (the gateway's `x-feature-name` header, a client's `model`), and every new value is
 * a new time series in Prometheus: past the bound, values collapse into `other`.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  private full = false;

  /**
   * @param name the label, named in the one warning logged when it first folds a value
   * @param reserved values that always keep a slot of their own, taken first (the configured
   *   models: clients' names cannot push them into `other`)
   */
  constructor(
    private readonly name: string,
    reserved: Iterable<string> = [],
  ) {
    for (const value of reserved) {
      if (this.seen.size >= MAX_LABEL_VALUES) break;
      this.seen.add(
        value.length > MAX_LABEL_LENGTH ? `${value.slice(0, MAX_LABEL_LENGTH - 1)}…` : value,
      );
    }
  }

  value(raw: string): string {
    // Bounded in length too: a label is stored in every series and in every scrape.
    const value = raw.length > MAX_LABEL_LENGTH ? `${raw.slice(0, MAX_LABEL_LENGTH - 1)}…` : raw;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= MAX_LABEL_VALUES) {
      if (!this.full) {
        this.full = true;
        warnFolded(
          `Metric label '${this.name}' has its ${MAX_LABEL_VALUES} distinct values; measurements ` +
            `of any other value are labelled 'other' from now on, until the process restarts.`,
        );
      }
      return 'other';
    }
    this.seen.add(value);
    return value;
  }
}

/**
 * Logs that a label bound was reached, once per bound: from then on new callers, models or
 * features show only as `other` in every dashboard, which an operator must be able to find out.
 * Values are often sent by clients (`x-feature-name`, `model`): the gateway's `GATEWAY_API_KEYS`
 * keeps strangers from filling them.
 */
function warnFolded(message: string): void {
  new Logger('LlmMetrics').warn(
    `${message} Values sent by clients (the gateway's x-feature-name, a request's model) fill ` +
      'it first: keep the gateway behind GATEWAY_API_KEYS, or give features fixed names.',
  );
}

/** The GenAI histograms' attributes once the response model is known. */
export interface ResponseLabels {
  readonly operation: Attributes;
  /** {@link operation} with `gen_ai.token.type` = `input` / `output`. */
  readonly input: Attributes;
  readonly output: Attributes;
  /** {@link operation} with `error.type`, by error kind (a bounded set), built on first use. */
  readonly failed: Map<string, Attributes>;
}

/**
 * The attribute objects of one (upstream, model, feature), built on its first call and reused by
 * every later one: recording a call allocates no attribute object on the common paths.
 */
export class CallLabels {
  /** Upstream, requested model and feature: what every call instrument is labelled by. */
  readonly common: Attributes;
  /** {@link common} plus the GenAI operation's: operation name, provider, server. */
  readonly operation: Attributes;
  private readonly outcomes = new Map<string, Attributes>();
  private readonly responses = new Map<string, ResponseLabels>();
  private readonly retries = new Map<string, Attributes>();

  constructor(upstream: ResolvedUpstream, model: string, feature: string) {
    this.common = {
      [ATTR_LLM_UPSTREAM]: upstream.name,
      [ATTR_GEN_AI_REQUEST_MODEL]: model,
      [ATTR_LLM_FEATURE]: feature,
    };
    this.operation = {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
      ...callAttributes(upstream, model, feature),
    };
  }

  /** {@link common} with `llm.outcome` (`success` or an error kind: a bounded set). */
  outcome(outcome: string): Attributes {
    let attributes = this.outcomes.get(outcome);
    if (!attributes) {
      attributes = { ...this.common, [ATTR_LLM_OUTCOME]: outcome };
      this.outcomes.set(outcome, attributes);
    }
    return attributes;
  }

  /** {@link common} with a retry's reason and delay source (both bounded sets). */
  retry(reason: string, source: string): Attributes {
    const key = `${reason}\u0000${source}`;
    let attributes = this.retries.get(key);
    if (!attributes) {
      attributes = {
        ...this.common,
        [ATTR_LLM_RETRY_REASON]: reason,
        [ATTR_LLM_RETRY_DELAY_SOURCE]: source,
      };
      this.retries.set(key, attributes);
    }
    return attributes;
  }

  /** {@link operation} with the (bounded) response model, when the provider named one. */
  response(model: string | undefined): ResponseLabels {
    const key = model ?? '';
    let labels = this.responses.get(key);
    if (!labels) {
      const operation = model
        ? { ...this.operation, [ATTR_GEN_AI_RESPONSE_MODEL]: model }
        : this.operation;
      labels = {
        operation,
        input: { ...operation, [ATTR_GEN_AI_TOKEN_TYPE]: 'input' },
        output: { ...operation, [ATTR_GEN_AI_TOKEN_TYPE]: 'output' },
        failed: new Map(),
      };
      this.responses.set(key, labels);
    }
    return labels;
  }
}

/** {@link ResponseLabels.operation} with `error.type` = `kind`, the same object every time. */
export function failedOperation(labels: ResponseLabels, kind: string): Attributes {
  let attributes = labels.failed.get(kind);
  if (!attributes) {
    attributes = { ...labels.operation, [ATTR_ERROR_TYPE]: kind };
    labels.failed.set(kind, attributes);
  }
  return attributes;
}

/** Builds the attributes of a call's measurements: low cardinality, never the user id. */
export class CallMetricAttributes {
  private readonly features = new BoundedLabel(ATTR_LLM_FEATURE);
  private readonly models: BoundedLabel;
  /** The models the configuration names (see {@link configuredModels}). */
  private readonly configured: ReadonlySet<string>;
  private warnedPairs = false;
  /** Upstream → model → feature; at most {@link MAX_LABEL_PAIRS} pairs per upstream, plus `other`s. */
  private readonly labels = new WeakMap<ResolvedUpstream, Map<string, Map<string, CallLabels>>>();
  private readonly pairs = new WeakMap<ResolvedUpstream, { count: number }>();

  /** @param upstreams the configured upstreams: their models are labelled as themselves first */
  constructor(upstreams: readonly ResolvedUpstream[] = []) {
    this.configured = configuredModels(upstreams);
    this.models = new BoundedLabel(ATTR_GEN_AI_REQUEST_MODEL, this.configured);
  }

  /** The model label of a breaker: the same bounded set of values as the calls' models. */
  model(model: string): string {
    return this.models.value(model);
  }

  /** The labels of a call's upstream, model and feature (the same object for every such call). */
  of(call: CallRecord): CallLabels {
    const model = this.models.value(call.model);
    const feature = this.features.value(call.context.featureName ?? UNKNOWN_FEATURE);
    let byModel = this.labels.get(call.upstream);
    if (!byModel)
      this.labels.set(call.upstream, (byModel = new Map<string, Map<string, CallLabels>>()));
    const labels = byModel.get(model)?.get(feature);
    if (labels) return labels;
    let pairs = this.pairs.get(call.upstream);
    if (!pairs) this.pairs.set(call.upstream, (pairs = { count: 0 }));
    if (pairs.count < MAX_LABEL_PAIRS) {
      pairs.count++;
      return this.create(byModel, call.upstream, model, feature);
    }
    if (!this.warnedPairs) {
      this.warnedPairs = true;
      warnFolded(
        `Upstream '${call.upstream.name}' has its ${MAX_LABEL_PAIRS} model and feature label ` +
          `pairs; calls of any other pair are labelled with feature 'other' from now on (model ` +
          `'other' too for a model without one), until the process restarts.`,
      );
    }
    // Past the bound: the model's `other` feature when it has one, else `other` for both. The
    // `other` pairs are not counted: at most one per model, and the models are bounded.
    // A configured model keeps its own name: its `other` feature is made when first needed.
    return (
      byModel.get(model)?.get('other') ??
      (this.configured.has(model)
        ? this.create(byModel, call.upstream, model, 'other')
        : (byModel.get('other')?.get('other') ??
          this.create(byModel, call.upstream, 'other', 'other')))
    );
  }

  private create(
    byModel: Map<string, Map<string, CallLabels>>,
    upstream: ResolvedUpstream,
    model: string,
    feature: string,
  ): CallLabels {
    let byFeature = byModel.get(model);
    if (!byFeature) byModel.set(model, (byFeature = new Map<string, CallLabels>()));
    const labels = new CallLabels(upstream, model, feature);
    byFeature.set(feature, labels);
    return labels;
  }

  /** The response model as a label: bounded like the requested ones. */
  responseModel(call: CallRecord): string | undefined {
    const model = call.response?.model;
    return model ? this.models.value(model) : undefined;
  }
}

/**
 * The models the configuration names: each upstream's default, the models of its fallback chains
 * (the chains' own keys and their targets) and those given a budget of their own.
 */
export function configuredModels(upstreams: readonly ResolvedUpstream[]): Set<string> {
  const models = new Set<string>();
  for (const upstream of upstreams) {
    if (upstream.defaultModel) models.add(upstream.defaultModel);
    for (const [model, chain] of Object.entries(upstream.fallbacks)) {
      if (model !== '*') models.add(model);
      for (const target of chain) if (target.model) models.add(target.model);
    }
    for (const model of Object.keys(upstream.limits?.models ?? {})) models.add(model);
  }
  return models;
}
