import type { ResolvedUpstream } from '../llm-module.options';
import {
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_LLM_FEATURE,
  ATTR_LLM_UPSTREAM,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from './llm.semconv';

/** `server.address` and `server.port`; empty when the base URL cannot be parsed. */
export type ServerAttributes = {
  readonly [ATTR_SERVER_ADDRESS]?: string;
  readonly [ATTR_SERVER_PORT]?: number;
};

/** What every signal says about the upstream a call went to. */
export type UpstreamAttributes = ServerAttributes & {
  readonly [ATTR_GEN_AI_PROVIDER_NAME]: string;
  readonly [ATTR_LLM_UPSTREAM]: string;
};

/** The upstream, the model called and the feature that called it. */
export type CallAttributes = UpstreamAttributes & {
  [ATTR_GEN_AI_REQUEST_MODEL]: string;
  [ATTR_LLM_FEATURE]?: string;
};

/**
 * `server.address` and `server.port` of a base URL, the port defaulted from the scheme. A URL
 * brackets an IPv6 host (`http://[::1]:8080`); `server.address` is the bare address (`::1`).
 */
export function serverAttributes(baseUrl: string): ServerAttributes {
  try {
    const url = new URL(baseUrl);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return {
      [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      [ATTR_SERVER_PORT]: port,
    };
  } catch {
    return {};
  }
}

/** Upstreams are resolved once at startup: their attributes are built once, on first use. */
const byUpstream = new WeakMap<ResolvedUpstream, UpstreamAttributes>();

/**
 * Provider, upstream name, `server.address` and `server.port` of an upstream: one frozen object
 * per upstream, shared by spans, metrics and events (spread it, never change it).
 */
export function upstreamAttributes(upstream: ResolvedUpstream): UpstreamAttributes {
  let attributes = byUpstream.get(upstream);
  if (!attributes) {
    attributes = Object.freeze({
      [ATTR_GEN_AI_PROVIDER_NAME]: upstream.provider,
      [ATTR_LLM_UPSTREAM]: upstream.name,
      ...serverAttributes(upstream.baseUrl),
    });
    byUpstream.set(upstream, attributes);
  }
  return attributes;
}

/**
 * {@link upstreamAttributes} plus the model and the feature, in a new object the caller may add
 * to. Spans and events pass the raw values; metrics pass bounded labels.
 *
 * @example
 * span.setAttributes(callAttributes(call.upstream, call.model, call.context.featureName));
 */
export function callAttributes(
  upstream: ResolvedUpstream,
  model: string,
  feature: string | undefined,
): CallAttributes {
  const attributes: CallAttributes = {
    ...upstreamAttributes(upstream),
    [ATTR_GEN_AI_REQUEST_MODEL]: model,
  };
  if (feature !== undefined) attributes[ATTR_LLM_FEATURE] = feature;
  return attributes;
}
