import { HttpService } from '@nestjs/axios';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { ResolvedUpstream } from '../llm-module.options';
import { createUpstreamAgents } from './connect-timeout.agent';
import { MAX_BODY_BYTES } from './read-body';

/** One HTTP request to an upstream. */
export interface UpstreamRequest {
  /** Path below the upstream's base URL, e.g. `/chat/completions`. */
  path: string;
  body: unknown;
  signal: AbortSignal;
  /** Headers of this attempt (client request id, attempt number); merged over the upstream's. */
  headers: Record<string, string>;
  /** `text`: the whole body, read by axios (plain calls); `stream`: a Readable (SSE). */
  responseType: 'text' | 'stream';
}

/** The response as soon as its headers arrived; the body is read by the caller. */
export interface UpstreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The whole body for `text`, a stream being received for `stream`. */
  body: string | Readable;
}

/**
 * HTTP to the provider through `@nestjs/axios`: keep-alive agents per upstream with a connect
 * timeout, no redirects, no status validation (the classifier reads every status) and the body
 * as a stream, so plain and streaming calls share one path.
 */
@Injectable()
export class LlmHttpTransport implements OnModuleDestroy {
  private readonly agents = new Map<string, ReturnType<typeof createUpstreamAgents>>();

  constructor(private readonly http: HttpService) {}

  async send(upstream: ResolvedUpstream, request: UpstreamRequest): Promise<UpstreamResponse> {
    const agents = this.agentsFor(upstream);
    const response = await this.http.axiosRef.request<string | Readable>({
      url: upstream.baseUrl + request.path,
      method: 'POST',
      data: request.body,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...upstream.headers,
        ...request.headers,
        ...(upstream.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {}),
      },
      signal: request.signal,
      responseType: request.responseType,
      // Text stays text: the caller parses, so malformed JSON is classified, not thrown by axios.
      transformResponse: (data: unknown) => data,
      maxContentLength: MAX_BODY_BYTES,
      validateStatus: () => true,
      maxRedirects: 0,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number')
        headers[name.toLowerCase()] = String(value);
      else if (Array.isArray(value)) headers[name.toLowerCase()] = value.join(', ');
    }
    return { status: response.status, headers, body: response.data };
  }

  onModuleDestroy(): void {
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
