import type { Attributes } from '@opentelemetry/api';
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import { CallRecord } from '../call/call-record';
import { ResolvedUpstream } from '../llm-module.options';
import { GEN_AI, GEN_AI_OPERATION } from './gen-ai.semconv';
import { LLM_METRIC_ATTRIBUTES } from './llm-metric.names';

/**
 * `gen_ai.token.type` (`input` | `output`) of the token usage histogram: a metric-only GenAI name,
 * kept beside the metrics until gen-ai.semconv.ts lists it.
 */
export const GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';

/** Distinct feature or model values kept as labels; later ones are recorded as `other`. */
export const MAX_LABEL_VALUES = 64;

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

  value(raw: string): string {
    // Bounded in length too: a label is stored in every series and in every scrape.
    const value = raw.length > MAX_LABEL_LENGTH ? `${raw.slice(0, MAX_LABEL_LENGTH - 1)}…` : raw;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= MAX_LABEL_VALUES) return 'other';
    this.seen.add(value);
    return value;
  }
}

/** Builds the attributes of a call's measurements: low cardinality, never the user id. */
export class CallMetricAttributes {
  private readonly features = new BoundedLabel();
  private readonly models = new BoundedLabel();
  private readonly servers = new Map<string, Attributes>();

  /** The model label of a breaker: the same bounded set of values as the calls' models. */
  model(model: string): string {
    return this.models.value(model);
  }

  /** Upstream, requested model and feature: what every call instrument is labelled by. */
  common(call: CallRecord): Attributes {
    return {
      [LLM_METRIC_ATTRIBUTES.upstream]: call.upstream.name,
      [GEN_AI.requestModel]: this.models.value(call.model),
      [LLM_METRIC_ATTRIBUTES.feature]: this.features.value(
        call.context.featureName ?? UNKNOWN_FEATURE,
      ),
    };
  }

  /** The GenAI convention's attributes of a client operation, plus {@link common}. */
  operation(call: CallRecord): Attributes {
    const responseModel = call.response?.model;
    return {
      [GEN_AI.operationName]: GEN_AI_OPERATION.chat,
      [GEN_AI.providerName]: call.upstream.provider,
      ...this.server(call.upstream),
      ...this.common(call),
      ...(responseModel ? { [GEN_AI.responseModel]: this.models.value(responseModel) } : {}),
    };
  }

  /** `server.address` and `server.port` of an upstream, parsed once. */
  private server(upstream: ResolvedUpstream): Attributes {
    let attributes = this.servers.get(upstream.name);
    if (!attributes) {
      const url = new URL(upstream.baseUrl);
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      attributes = {
        // An IPv6 host is bracketed in a URL, not in `server.address`.
        [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[|\]$/g, ''),
        [ATTR_SERVER_PORT]: port,
      };
      this.servers.set(upstream.name, attributes);
    }
    return attributes;
  }
}
