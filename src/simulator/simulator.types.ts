/** Fields every scripted step accepts. */
export interface SimStepBase {
  /** How many consecutive chat requests this step answers. @default 1 */
  repeat?: number;
  /** Wait before the step answers; replaces the simulator's `latencyMs` for this request. */
  latencyMs?: number;
}

/** Token counts as OpenAI reports them in `usage`. */
export interface SimUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A successful answer (JSON, or SSE when the request asked for `stream: true`). */
export interface SimOkStep extends SimStepBase {
  type: 'ok';
  content?: string;
  model?: string;
  /** Overrides the estimated token counts; missing fields are estimated. */
  usage?: Partial<SimUsage>;
  headers?: Record<string, string>;
}

/** An HTTP error, OpenAI-shaped unless `body` overrides it. */
export interface SimErrorStep extends SimStepBase {
  type: 'error';
  status: number;
  /** `error.code`; defaults by status (`rate_limit_exceeded` for 429, ...). */
  code?: string | null;
  message?: string;
  /** `error.type`; defaults by status (`invalid_request_error`, `server_error`, ...). */
  errorType?: string;
  /** Sent as they are: `retry-after`, `retry-after-ms`, `x-should-retry`, `x-ratelimit-*`. */
  headers?: Record<string, string>;
  /** Raw body instead of the JSON error, e.g. a proxy's HTML 502 page. */
  body?: string;
}

/** Accepts the request and never answers, until the client leaves or the simulator closes. */
export interface SimHangStep extends SimStepBase {
  type: 'hang';
}

/** Destroys the socket without any response: the client sees ECONNRESET. */
export interface SimResetStep extends SimStepBase {
  type: 'reset';
}

/** 200 with a truncated body (JSON, or an SSE event with broken JSON for stream requests). */
export interface SimMalformedStep extends SimStepBase {
  type: 'malformed';
}

/** An SSE answer whose timing and ending are under the test's control. */
export interface SimStreamStep extends SimStepBase {
  type: 'stream';
  content?: string;
  /** Explicit content pieces; otherwise `content` is split into words. */
  chunks?: string[];
  model?: string;
  headers?: Record<string, string>;
  /** Gap before each chunk after the first (a drip). @default 0 */
  delayMs?: number;
  /** Wait after the headers before the first chunk. @default 0 */
  firstChunkDelayMs?: number;
  /** Sends `: keep-alive` SSE comments at this interval while waiting. */
  keepAliveEveryMs?: number;
  /** Chunks with an empty `delta.content` sent before the real content. @default 0 */
  emptyDeltas?: number;
  /** After this many content chunks, stop sending but keep the connection open. */
  stallAfter?: number;
  /** After this many content chunks, destroy the socket. */
  cutAfter?: number;
  /** Only keep-alive comments, forever (every `keepAliveEveryMs`, default 1000). */
  keepAliveOnly?: boolean;
}

/** One scripted answer; each chat request consumes one (after its `repeat`). */
export type SimStep =
  SimOkStep | SimErrorStep | SimHangStep | SimResetStep | SimMalformedStep | SimStreamStep;

/** Every `SimStep['type']`, for validation and error messages. */
export const SIM_STEP_TYPES = ['ok', 'error', 'hang', 'reset', 'malformed', 'stream'] as const;

/** How the simulator enforces its limits; see `SimConfig.enforcement`. */
export type SimEnforcement = 'sliding' | 'interval' | 'bucket';

/** Whose rate-limit hints the simulator sends; see `SimConfig.provider`. */
export type SimProvider = 'openai' | 'azure';

/** Every `SimProvider`, for validation and error messages. */
export const SIM_PROVIDERS: readonly SimProvider[] = ['openai', 'azure'];

/** Starts an outage: every chat request answers `status` until `durationMs` has passed. */
export interface SimOutage {
  /** @default 503 */
  status?: number;
  durationMs: number;
}

/** What `configure()` and `POST /_sim/config` change. */
export interface SimConfig {
  /** Added before every normal answer. @default 0 */
  latencyMs: number;
  /** Requests per window; `undefined` or 0 means unlimited. */
  rpm?: number;
  /** Tokens per window; `undefined` or 0 means unlimited. */
  tpm?: number;
  /**
   * How `rpm` and `tpm` are enforced, as providers do: `sliding` counts any `windowMs` (a
   * minute); `interval` allows `limit × intervalMs / 60 000` per clock-aligned interval (Azure
   * evaluates "over a small period of time, typically 1 or 10 seconds"); `bucket` is a token
   * bucket of `limit × burstMs / 60 000` refilled at the per-minute rate. @default 'sliding'
   */
  enforcement: SimEnforcement;
  /** Length of the sliding rate-limit window (`sliding`). @default 60000 */
  windowMs: number;
  /** Length of one fixed interval (`interval`), typically 1000 or 10000. @default 1000 */
  intervalMs: number;
  /** The bucket's size as time at the per-minute rate (`bucket`). @default 1000 */
  burstMs: number;
  /**
   * Whose 429 hints and headers to send: `openai` (`retry-after-ms`, `retry-after`,
   * `x-ratelimit-limit/remaining/reset-*`, OpenAI's error body) or `azure` (`retry-after` in
   * whole seconds, `x-ratelimit-remaining-*`, Azure's `{ error: { code: '429' } }` body).
   * @default 'openai'
   */
  provider: SimProvider;
  /** When set, chat and models requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Listed by `GET /v1/models`; the first one answers requests without a model. */
  models: string[];
  /** Starts an outage (`null` ends the current one). */
  outage?: SimOutage | null;
}

/** Options of `UpstreamSimulator.start()`. */
export interface SimulatorOptions extends Partial<Omit<SimConfig, 'outage'>> {
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

/** One chat-completions request as the simulator received it. */
export interface RecordedRequest {
  /** `Date.now()` when the request arrived. */
  at: number;
  method: string;
  path: string;
  /** Lower-case names; credentials are replaced by `Bearer ***` / `***`, never kept. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  hadAuthorization: boolean;
  /** The scripted step type that answered, if one did. */
  step?: SimStep['type'];
  /** The status answered, once known (a stream's 200 when its headers went out). */
  status?: number;
}
