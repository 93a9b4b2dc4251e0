import { HttpService } from '@nestjs/axios';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { ResolvedUpstream } from '../llm-module.options';
import { LlmError } from '../resilience/llm.errors';
import { redactSecrets } from '../resilience/secret-redaction';
import { createUpstreamAgents } from './connect-timeout.agent';

/** One HTTP request to an upstream. */
export interface UpstreamRequest {
  /** Path below the upstream's base URL, e.g. `/chat/completions`. */
  path: string;
  body: unknown;
  signal: AbortSignal;
  /** Headers of this attempt (client request id, attempt number); merged over the upstream's. */
  headers: Record<string, string>;
  /** What the caller does with the body: reads it whole (plain calls) or as SSE. */
  responseType: 'text' | 'stream';
}

/** The response as soon as its headers arrived; the body is read by the caller. */
export interface UpstreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The body being received; the caller reads it, up to a bound of its own. */
  body: string | Readable;
}

/**
 * HTTP to the provider through `@nestjs/axios`: keep-alive agents per upstream with a connect
 * timeout, no redirects, no status validation (the classifier reads every status) and the body
 * as a stream, so plain and streaming calls share one path.
 */
@Injectable()
export class LlmHttpTransport implements OnApplicationShutdown {
  private readonly agents = new Map<string, ReturnType<typeof createUpstreamAgents>>();

  constructor(private readonly http: HttpService) {}

  async send(upstream: ResolvedUpstream, request: UpstreamRequest): Promise<UpstreamResponse> {
    const agents = this.agentsFor(upstream);
    const data = encodeBody(request.body, upstream.name);
    const response = await this.http.axiosRef.request<string | Readable>({
      url: upstream.baseUrl + request.path,
      method: 'POST',
      data,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...upstream.headers,
        ...request.headers,
        ...(upstream.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {}),
      },
      signal: request.signal,
      // Always a stream: the caller reads as much as it needs (a few KiB of an error page, a whole
      // completion, an unbounded SSE stream limited by time) and parses it itself.
      responseType: 'stream',
      transformRequest: (body: unknown) => body,
      transformResponse: (body: unknown) => body,
      maxContentLength: -1,
      validateStatus: () => true,
      maxRedirects: 0,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers as Record<string, unknown>)) {
      const text =
        typeof value === 'string' || typeof value === 'number'
          ? String(value)
          : Array.isArray(value)
            ? value.join(', ')
            : undefined;
      if (text !== undefined)
        headers[name.toLowerCase()] = upstreamHeaderValue(name, text, upstream);
    }
    return { status: response.status, headers, body: response.data };
  }

  /**
   * Closes the keep-alive sockets. On application shutdown, not module destroy: Nest destroys
   * modules before the HTTP server stops, and calls still in flight must finish first.
   */
  onApplicationShutdown(): void {
    for (const { http, https } of this.agents.values()) {
      http.destroy();
      https.destroy();
    }
    this.agents.clear();
  }

  private agentsFor(upstream: ResolvedUpstream) {
    let agents = this.agents.get(upstream.name);
    if (!agents) {
      agents = createUpstreamAgents(upstream.timeouts.connectMs);
      this.agents.set(upstream.name, agents);
    }
    return agents;
  }
}

/** Longest upstream request id kept: it goes into spans, events and a response header. */
const MAX_REQUEST_ID_LENGTH = 128;

/** Longest value kept of any other upstream header. */
const MAX_HEADER_LENGTH = 1024;

/**
 * A header value as the rest of the process may see it: with the upstream's key (or any part of
 * it) masked, since an upstream may echo it (in `x-request-id`, say), and bounded in length.
 */
function upstreamHeaderValue(name: string, value: string, upstream: ResolvedUpstream): string {
  const max = name.toLowerCase() === 'x-request-id' ? MAX_REQUEST_ID_LENGTH : MAX_HEADER_LENGTH;
  const cut = value.length > max ? value.slice(0, max) : value;
  return redactSecrets(cut, [upstream.apiKey]);
}

/**
 * The request body as JSON text, encoded here rather than by axios, so that a failure (a body
 * nested too deep for the encoder's stack, a BigInt) is named a local `internal` error: it is not
 * the upstream's fault, must not be retried, and must not count toward the breaker.
 */
function encodeBody(body: unknown, upstream: string): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    throw new LlmError(
      'internal',
      `The request to upstream '${upstream}' could not be encoded as JSON ` +
        `(${error instanceof Error ? error.name : 'error'}); it was not sent. Fix the request.`,
      { upstream, retryable: false },
    );
  }
}
