import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { ResolvedUpstream } from '../llm-module.options';
import { LlmError } from '../resilience/llm.errors';
import { unwatchAbort, watchAbort } from '../resilience/abort-link';
import { secretRedactor } from '../resilience/secret-redaction';
import { createUpstreamAgents } from './connect-timeout.agent';
import { putHeader } from './header-list';
import {
  forwardedHeaders,
  isForwardableValue,
  isForwardedHeader,
} from '../resilience/forwarded-headers';
import { type BuiltInHttpTelemetry, builtInHttpTelemetry, isInstrumented } from './http-telemetry';
import { ACCEPT_ENCODING, decodedBody } from './response-decoding';

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
  /**
   * Lower-case header names; values bounded and masked. Built when first read (see
   * {@link ReceivedResponse}): a plain answer's caller reads it once the answer is written.
   */
  readonly headers: Record<string, string>;
  /** The `x-request-id` header as {@link headers} has it, read without building them. */
  readonly requestId: string | undefined;
  /**
   * The provider's rate-limit and processing-time headers (`FORWARDED_HEADER_NAMES`) as
   * {@link headers} has them, only values that read as a count, duration or time; read without
   * building the record.
   * Undefined when it sent none.
   */
  readonly forwardedHeaders: Readonly<Record<string, string>> | undefined;
  /** The body being received; the caller reads it, up to a bound of its own. */
  body: string | Readable;
}

/** One request as {@link LlmHttpTransport.send} hands it to Node. */
interface PreparedRequest {
  target: UpstreamTarget;
  path: RequestPath;
  headers: Record<string, string | number> | string[];
  data: string | Buffer;
  requestFn: typeof httpRequest;
  telemetry: BuiltInHttpTelemetry | undefined;
}

/** What a request to one upstream needs, worked out once per upstream rather than per call. */
interface UpstreamTarget {
  agents: ReturnType<typeof createUpstreamAgents>;
  secure: boolean;
  protocol: string;
  hostname: string;
  /** As the URL spells it: empty for the scheme's default. */
  port: string;
  /** The `Host` header's value as Node writes it: the URL's host (IPv6 bracketed, port unless the default). */
  host: string;
  baseUrl: string;
  /** Per request path below the base URL: the request line's path (with the query) and pathname. */
  paths: Map<string, RequestPath>;
  /** The headers every request carries, in merge order: ours, then the upstream's. */
  headers: Record<string, string>;
  authorization?: string;
  /**
   * The headers every request carries as Node's flat list (`[name, value, ...]`), when a request
   * may start from it ({@link fastHeaders}): every name in lower case and none that a request
   * sets itself (`host`, `authorization`, `content-length`), every value (and the key) ASCII.
   */
  list?: readonly string[];
  /** The names of `headers`, for a request's own headers to be told apart from them. */
  names: ReadonlySet<string>;
  /**
   * A request's own header names that {@link fastHeaders} found fit for its list, by place (the
   * last seen at each): the next request's names, the same, are not checked again.
   */
  ownNames: string[];
  /** Masks the upstream's key (or any part of it) in a response header's value. */
  redact: (text: string) => string;
  /** The header lines of its recent responses, to build the next ones' records from. */
  known: KnownHeaders[];
}

/**
 * HTTP to the provider with Node's own `http`/`https.request` (which OpenTelemetry's HTTP
 * instrumentation traces as client spans): keep-alive agents per upstream with a connect timeout,
 * no redirects followed, no status validation (the classifier reads every status) and the body as
 * a stream, so plain and streaming calls share one path.
 */
@Injectable()
export class LlmHttpTransport implements OnApplicationShutdown {
  /**
   * Per upstream: its agents, and its headers with the key. A private field (`#`): a deep
   * `util.inspect` or `console.dir` of the client, which reaches this transport, does not show it.
   */
  readonly #targets = new Map<string, UpstreamTarget>();

  /**
   * Sends one request; settles with the response once its headers arrived. Not `async`: the
   * promise it returns is the request's own, settled by its callbacks (an async function's would
   * be one more promise, resolved with this one two microtask turns later).
   */
  send(upstream: ResolvedUpstream, request: UpstreamRequest): Promise<UpstreamResponse> {
    let prepared: PreparedRequest;
    try {
      prepared = this.prepare(upstream, request);
    } catch (error) {
      // A body that cannot be encoded, an aborted signal: a rejection, as from an async function.
      return Promise.reject(error);
    }
    const { target, path, headers, data, requestFn, telemetry } = prepared;
    const { signal } = request;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let req: ClientRequest;
      let response: IncomingMessage | undefined;
      try {
        req = requestFn(
          {
            protocol: target.protocol,
            hostname: target.hostname,
            port: target.port,
            path: path.path,
            // Not read by Node; spares OpenTelemetry's HTTP instrumentation a URL parse per call.
            pathname: path.pathname,
            method: 'POST',
            headers,
            agent: target.secure ? target.agents.https : target.agents.http,
          },
          (res) => {
            response = res;
            try {
              resolve(upstreamResponse(res, target));
            } catch (error) {
              res.destroy();
              reject(error);
            }
            // After the caller's own reading is set up, as the instrumentation's listener runs.
            timing?.response(res);
          },
        );
      } catch (error) {
        // Node's own checks (a header value it will not send, say): raised before anything is sent.
        reject(error);
        return;
      }
      // Without the HTTP instrumentation: its metric, from here (as the instrumentation's, once
      // Node made the request), told what happens by this request's listeners below.
      const timing = telemetry?.clientRequest('POST', target);
      // Not Node's `signal` option: aborted while the caller still reads the body, it destroys the
      // request with an error nobody can listen to. Here the body's reader gets the error.
      const onAbort = (): void => {
        const error = abortError(signal);
        response?.destroy(error);
        req.destroy(error);
      };
      watchAbort(signal, onAbort);
      // `on`: a request closes once (`once` would wrap the listener, one more allocation per call).
      req.on('close', () => {
        timing?.closed();
        unwatchAbort(signal, onAbort);
      });
      // Kept after the response too: a later socket error must not go uncaught (the body's reader
      // gets its own).
      req.on(
        'error',
        timing
          ? (error: Error) => {
              timing.failed(error);
              reject(error);
            }
          : reject,
      );
      req.end(data);
    });
  }

  /** What {@link send} works out before anything is sent; throws what the send rejects with. */
  private prepare(upstream: ResolvedUpstream, request: UpstreamRequest): PreparedRequest {
    const target = this.targetFor(upstream);
    const path = pathOf(target, request.path);
    const text = encodeBody(request.body, upstream.name);
    const requestFn = target.secure ? httpsRequest : httpRequest;
    // Without the HTTP instrumentation (the gateway exporting no traces), its metric and the
    // trace context's propagation are done here; with it, they are the instrumentation's.
    const telemetry = isInstrumented(requestFn) ? undefined : builtInHttpTelemetry();
    // The gateway's usual request (see {@link fastHeaders}): its list from the target's.
    const fast =
      telemetry && !target.agents.proxied && !telemetry.injects()
        ? fastHeaders(target, request.headers, text)
        : undefined;
    if (fast) {
      if (request.signal.aborted) throw abortError(request.signal);
      return { target, path, headers: fast, data: text, requestFn, telemetry };
    }
    const headers: Record<string, string | number> = { ...target.headers };
    for (const name in request.headers) headers[name] = headerValue(request.headers[name]!);
    if (target.authorization !== undefined) headers.authorization = target.authorization;
    const { signal } = request;
    if (signal.aborted) throw abortError(signal);
    telemetry?.inject(headers);
    // Text when every header is ASCII: Node then sends the head and the body in one write (a
    // string body is appended to the head and the whole written as UTF-8). Otherwise bytes, so
    // that a Latin-1 header value goes out as Latin-1 (as with axios), head and body apart.
    const data = allAscii(headers) ? text : Buffer.from(text);
    headers['content-length'] = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    // With the built-in telemetry (the gateway: it alone owns the process's `http.request`), the
    // headers go to Node as a list, written as they are; an object is for whatever may read or
    // add to it (an instrumentation, a proxy agent's headers). Same bytes either way.
    const sent = telemetry && !target.agents.proxied ? headerList(headers, target.host) : headers;
    return { target, path, headers: sent, data, requestFn, telemetry };
  }

  /**
   * Closes the keep-alive sockets. On application shutdown, not module destroy: Nest destroys
   * modules before the HTTP server stops, and calls still in flight must finish first.
   */
  onApplicationShutdown(): void {
    for (const { agents } of this.#targets.values()) {
      agents.http.destroy();
      agents.https.destroy();
    }
    this.#targets.clear();
  }

  private targetFor(upstream: ResolvedUpstream): UpstreamTarget {
    let target = this.#targets.get(upstream.name);
    if (!target) {
      const url = new URL(upstream.baseUrl);
      const hostname = url.hostname;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'accept-encoding': ACCEPT_ENCODING,
        // Some front ends turn away requests without one; `headers` may set another.
        'user-agent': USER_AGENT,
        ...Object.fromEntries(
          Object.entries(upstream.headers).map(([name, value]) => [name, headerValue(value)]),
        ),
      };
      const authorization = upstream.apiKey ? `Bearer ${upstream.apiKey}` : undefined;
      target = {
        agents: createUpstreamAgents(upstream.timeouts.connectMs),
        secure: url.protocol === 'https:',
        protocol: url.protocol,
        // An IPv6 literal comes bracketed in a URL, and without brackets in a request's options.
        hostname: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname,
        port: url.port,
        host: url.host,
        baseUrl: upstream.baseUrl,
        paths: new Map(),
        headers,
        authorization,
        list: baseHeaderList(headers, authorization),
        names: new Set(Object.keys(headers)),
        ownNames: [],
        redact: secretRedactor(upstream.secrets),
        known: [],
      };
      this.#targets.set(upstream.name, target);
    }
    return target;
  }
}

/** What the caller gets when its signal aborts the request: Node's own abort error's shape. */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The request to the upstream was aborted'), {
    name: 'AbortError',
    code: 'ABORT_ERR',
    cause: signal.reason as unknown,
  });
}

interface RequestPath {
  path: string;
  pathname: string;
}

/**
 * The request line's path for `path` below the upstream's base URL, as `new URL` spells it, and
 * the base URL's query after it (Azure's `?api-version=...`).
 */
function pathOf(target: UpstreamTarget, path: string): RequestPath {
  let found = target.paths.get(path);
  if (found === undefined) {
    const query = target.baseUrl.indexOf('?');
    const url =
      query === -1
        ? new URL(target.baseUrl + path)
        : new URL(target.baseUrl.slice(0, query) + path + target.baseUrl.slice(query));
    found = { path: url.pathname + url.search, pathname: url.pathname };
    // Bounded: the module sends to a handful of fixed paths.
    if (target.paths.size < 16) target.paths.set(path, found);
  }
  return found;
}

/**
 * The response as the caller sees it: bounded, redacted header values and the decoded body.
 * Read from the raw header lines: Node's `res.headers` object is built on first use, a few µs on
 * every call that nothing else needs. The record is the same: names in lower case, in the order
 * they came. A name that comes twice, or a `content-encoding` that stays (one not decoded, a 204),
 * takes Node's object as before (its own rules join or drop repeated headers), in its place.
 * An upstream's responses usually repeat a recent one's header names, and most of its values:
 * the record is then built from what was worked out for it ({@link KnownHeaders}), and only when
 * first read ({@link ReceivedResponse}); its `content-encoding` and `x-request-id` are read at once.
 */
function upstreamResponse(res: IncomingMessage, target: UpstreamTarget): UpstreamResponse {
  const raw = res.rawHeaders;
  const known = knownFor(target, raw);
  if (known !== undefined) {
    const { encodingAt, requestIdAt } = known;
    const requestId =
      requestIdAt === -1 ? undefined : recordedValue(known, requestIdAt, raw, target.redact);
    if (encodingAt === -1) {
      return new ReceivedResponse(
        res.statusCode ?? 0,
        res,
        undefined,
        requestId,
        raw,
        known,
        target,
      );
    }
    const body = decodedBody(res, raw[encodingAt * 2 + 1]);
    if (body === res || res.statusCode === 204) return nodeHeadersResponse(res, target, body);
    return new ReceivedResponse(
      res.statusCode ?? 0,
      body,
      undefined,
      requestId,
      raw,
      known,
      target,
    );
  }
  const headers: Record<string, string> = {};
  let encoding: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    names.push(name);
    if (name === 'content-encoding' && encoding === undefined) {
      encoding = raw[i + 1]!;
      continue;
    }
    if (Object.hasOwn(headers, name) || name === '__proto__' || name === 'content-encoding') {
      return nodeHeadersResponse(res, target, decodedBody(res));
    }
    headers[name] = upstreamHeaderValue(name, raw[i + 1]!, target.redact);
  }
  remember(target, raw, names, headers);
  if (encoding === undefined) return receivedWith(res.statusCode ?? 0, headers, res);
  const body = decodedBody(res, encoding);
  if (body === res || res.statusCode === 204) return nodeHeadersResponse(res, target, body);
  return receivedWith(res.statusCode ?? 0, headers, body);
}

/**
 * {@link UpstreamResponse} whose header record, when it repeats a known set's names, is built
 * when first read: a plain answer's caller reads only its `x-request-id` ({@link requestId})
 * before it writes its own answer, and the record (for the rate limiter's correction, say) once
 * that is written. The record is the one it would have been at once: built from this response's
 * own header lines, each value bounded and masked (the known set only caches those forms).
 */
class ReceivedResponse implements UpstreamResponse {
  /** {@link forwardedHeaders} once worked out; null before. */
  private forwarded: Readonly<Record<string, string>> | undefined | null = null;

  constructor(
    readonly status: number,
    public body: string | Readable,
    private record: Record<string, string> | undefined,
    readonly requestId: string | undefined,
    private raw: readonly string[] | undefined,
    private known: KnownHeaders | undefined,
    private target: UpstreamTarget | undefined,
  ) {}

  get headers(): Record<string, string> {
    if (this.record === undefined) {
      this.record = knownRecord(this.raw!, this.known!, this.target!.redact);
      this.raw = this.known = this.target = undefined;
    }
    return this.record;
  }

  get forwardedHeaders(): Readonly<Record<string, string>> | undefined {
    if (this.forwarded === null) {
      this.forwarded =
        this.record === undefined
          ? knownForwarded(this.raw!, this.known!, this.target!.redact)
          : forwardedHeaders(this.record);
    }
    return this.forwarded;
  }
}

/** {@link forwardedHeaders} of header lines repeating `known`'s names, without their record. */
function knownForwarded(
  raw: readonly string[],
  known: KnownHeaders,
  redact: (text: string) => string,
): Readonly<Record<string, string>> | undefined {
  const at = known.forwardAt;
  // Most answers of a provider that sends none: nothing to build.
  if (at.length === 0) return undefined;
  let found: Record<string, string> | undefined;
  for (let i = 0; i < at.length; i++) {
    const value = recordedValue(known, at[i]!, raw, redact);
    if (isForwardableValue(value)) (found ??= {})[known.names[at[i]!]!] = value;
  }
  return found;
}

/** A response whose record is built already. */
function receivedWith(
  status: number,
  headers: Record<string, string>,
  body: string | Readable,
): UpstreamResponse {
  return new ReceivedResponse(
    status,
    body,
    headers,
    headers['x-request-id'],
    undefined,
    undefined,
    undefined,
  );
}

/** The record of header lines repeating `known`'s names (`content-encoding` left out). */
function knownRecord(
  raw: readonly string[],
  known: KnownHeaders,
  redact: (text: string) => string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let k = 0; k < known.names.length; k++) {
    if (k !== known.encodingAt) headers[known.names[k]!] = recordedValue(known, k, raw, redact);
  }
  return headers;
}

/** The record value of `raw`'s line `k`, a line of `known`'s names. */
function recordedValue(
  known: KnownHeaders,
  k: number,
  raw: readonly string[],
  redact: (text: string) => string,
): string {
  const value = raw[k * 2 + 1]!;
  // The same value as last time: its bounded, masked form is the same too.
  if (value !== known.values[k]) {
    known.values[k] = value;
    known.recorded[k] = upstreamHeaderValue(known.names[k]!, value, redact);
  }
  return known.recorded[k]!;
}

/**
 * The header lines of an upstream's recent response whose names were distinct, as
 * {@link upstreamResponse} read them: the raw names, in lower case, where `content-encoding` was,
 * and each other line's value with its record value (bounded, masked). Each is bounded by the size
 * of one response's head (Node's `maxHeaderSize`).
 */
interface KnownHeaders {
  raw: string[];
  names: string[];
  /** Which line is `content-encoding`; -1 for none. */
  encodingAt: number;
  /** Which line is `x-request-id`; -1 for none. */
  requestIdAt: number;
  /** Which lines are forwarded ones (`FORWARDED_HEADER_NAMES`), in the order of the lines. */
  forwardAt: number[];
  values: string[];
  recorded: string[];
}

/**
 * Sets of header lines kept per upstream, the most recent first: two, so that plain answers and
 * streams (whose heads differ) each find theirs.
 */
const KNOWN_SETS = 2;

/** The known header lines whose names `raw` repeats (same spelling, same order), if any. */
function knownFor(target: UpstreamTarget, raw: readonly string[]): KnownHeaders | undefined {
  const { known } = target;
  for (let at = 0; at < known.length; at++) {
    const set = known[at]!;
    if (!sameNames(set, raw)) continue;
    if (at > 0) {
      known[at] = known[0]!;
      known[0] = set;
    }
    return set;
  }
  return undefined;
}

/** Keeps what the next response repeating `raw`'s names may reuse (see {@link KnownHeaders}). */
function remember(
  target: UpstreamTarget,
  raw: readonly string[],
  names: string[],
  headers: Record<string, string>,
): void {
  const set: KnownHeaders = {
    raw: [],
    names,
    encodingAt: -1,
    requestIdAt: names.indexOf('x-request-id'),
    forwardAt: [],
    values: [],
    recorded: [],
  };
  for (let i = 0, k = 0; i < raw.length; i += 2, k++) {
    set.raw.push(raw[i]!);
    set.values.push(raw[i + 1]!);
    if (isForwardedHeader(names[k]!)) set.forwardAt.push(k);
    if (names[k] === 'content-encoding') {
      set.encodingAt = k;
      set.recorded.push('');
    } else {
      set.recorded.push(headers[names[k]!]!);
    }
  }
  const { known } = target;
  if (known.length < KNOWN_SETS) known.push(set);
  for (let at = known.length - 1; at > 0; at--) known[at] = known[at - 1]!;
  known[0] = set;
}

/** Whether `raw` has the same header names, spelled the same, in the same order as `known`. */
function sameNames(known: KnownHeaders, raw: readonly string[]): boolean {
  const names = known.raw;
  if (raw.length !== names.length * 2) return false;
  for (let i = 0, k = 0; k < names.length; i += 2, k++) {
    if (raw[i] !== names[k]) return false;
  }
  return true;
}

/** {@link upstreamResponse} from Node's header object. */
function nodeHeadersResponse(
  res: IncomingMessage,
  target: UpstreamTarget,
  body: UpstreamResponse['body'],
): UpstreamResponse {
  const headers: Record<string, string> = {};
  for (const name in res.headers) {
    const value = res.headers[name];
    if (value === undefined) continue;
    // Decoded here (or a 204 without a body): nothing for the caller to decode.
    if (name === 'content-encoding' && (body !== res || res.statusCode === 204)) continue;
    const text = typeof value === 'string' ? value : value.join(', ');
    headers[name] = upstreamHeaderValue(name, text, target.redact);
  }
  return receivedWith(res.statusCode ?? 0, headers, body);
}

/**
 * The request's headers as Node's flat list (`[name, value, ...]`), which `http.request` writes
 * as given: each header validated once, instead of set (validated, copied into a map) and then
 * validated again. The bytes are those of the object form: names as spelled, in the object's
 * order; a name given twice in different cases keeps its first place with its last spelling and
 * value (as `setHeader` does); `Host` last, unless given, as Node adds it to an object's headers.
 */
function headerList(headers: Record<string, string | number>, host: string): string[] {
  const list: string[] = [];
  // An object's keys are distinct: only a name not in lower case can repeat another's, so the
  // list is searched only once one has appeared.
  let mixedCase = false;
  let hasHost = false;
  for (const name in headers) {
    const value = String(headers[name]);
    const lower = name.toLowerCase();
    if (lower === 'host') hasHost = true;
    if (lower !== name) mixedCase = true;
    if (mixedCase) putHeader(list, name, value);
    else list.push(name, value);
  }
  if (!hasHost) list.push('Host', host);
  return list;
}

/** Names a request's headers never take from the target's list: Node's, or set per request. */
const OWN_NAMES = new Set(['host', 'authorization', 'content-length']);

/**
 * The target's part of {@link fastHeaders}' list, when its headers allow one: every name in
 * lower case, not an integer (an object puts those first), none of {@link OWN_NAMES}; every value
 * (and the authorization) ASCII. Otherwise undefined: its requests take the general way.
 */
function baseHeaderList(
  headers: Record<string, string>,
  authorization: string | undefined,
): string[] | undefined {
  const list: string[] = [];
  for (const name in headers) {
    const value = headers[name]!;
    if (!plainName(name) || OWN_NAMES.has(name) || !asciiValue(value)) return undefined;
    list.push(name, value);
  }
  if (authorization !== undefined && !asciiValue(authorization)) return undefined;
  return list;
}

/**
 * The headers of a request as {@link headerList} would give them, built from the target's list
 * when they can be: the target has one, and each of the request's own headers has a plain name
 * that is not the target's and an ASCII value (nothing to drop); nothing is injected (the caller
 * checks). The same names, order and values: the target's, the request's, `authorization`,
 * `content-length`, `Host`. Undefined when the general way must be taken.
 */
function fastHeaders(
  target: UpstreamTarget,
  own: Record<string, string>,
  text: string,
): string[] | undefined {
  const base = target.list;
  if (base === undefined) return undefined;
  const list = base.slice();
  const checked = target.ownNames;
  let k = 0;
  for (const name in own) {
    const value = own[name]!;
    // A name that passed at this place before passes again: the checks read only the name and
    // the target's. An attempt's names are the same on every call.
    if (name !== checked[k]) {
      if (!plainName(name) || OWN_NAMES.has(name) || target.names.has(name)) return undefined;
      if (k < MAX_OWN_NAMES) checked[k] = name;
    }
    k++;
    if (!asciiValue(value)) return undefined;
    list.push(name, value);
  }
  if (target.authorization !== undefined) list.push('authorization', target.authorization);
  // Text that is all ASCII (the head is, here): its length in bytes is its length.
  list.push('content-length', String(Buffer.byteLength(text)), 'Host', target.host);
  return list;
}

/** Places of a request's own header names whose check {@link fastHeaders} remembers. */
const MAX_OWN_NAMES = 8;

/** A header name in lower case that an object keeps in insertion order (not an integer). */
function plainName(name: string): boolean {
  if (name.length === 0) return false;
  const first = name.charCodeAt(0);
  return !(first >= 0x30 && first <= 0x39) && name.toLowerCase() === name;
}

/**
 * Whether a header value is ASCII and holds no control but tab (sent as is, as text): what
 * `!NOT_ASCII.test(value)` says, as a loop (a request's own values, on every call: a short one
 * is checked sooner so than by a regular expression's run).
 */
function asciiValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code > 0x7e) return false;
  }
  return true;
}

// A header value holds no control but tab (Node refuses them): beyond these, it is not ASCII.
const NOT_ASCII = /[^\t\x20-\x7e]/;

/** Whether every header value is ASCII (written the same as UTF-8 and as Latin-1). */
function allAscii(headers: Record<string, string | number>): boolean {
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string' && NOT_ASCII.test(value)) return false;
  }
  return true;
}

/** Characters a header value cannot carry on the wire: controls (CR, LF, ...) and non-Latin-1. */
const NOT_IN_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const NOT_IN_HEADER_VALUE_ALL = /[^\t\x20-\x7e\x80-\xff]+/g;

/**
 * A request header's value without the characters Node would refuse it for, dropped as axios did:
 * a client request id with a line break is sent without it rather than failing the call.
 */
function headerValue(value: string): string {
  return NOT_IN_HEADER_VALUE.test(value) ? value.replace(NOT_IN_HEADER_VALUE_ALL, '') : value;
}

/** Sent unless the upstream's `headers` name another. */
const USER_AGENT = 'nestjs-resilient-llm';

/** Longest upstream request id kept: it goes into spans, events and a response header. */
const MAX_REQUEST_ID_LENGTH = 128;

/** Longest value kept of any other upstream header. */
const MAX_HEADER_LENGTH = 1024;

/**
 * A header value as the rest of the process may see it: with the upstream's key (or any part of
 * it) masked, since an upstream may echo it (in `x-request-id`, say), and bounded in length.
 */
function upstreamHeaderValue(
  name: string,
  value: string,
  redact: (text: string) => string,
): string {
  const max = name === 'x-request-id' ? MAX_REQUEST_ID_LENGTH : MAX_HEADER_LENGTH;
  return redact(value.length > max ? value.slice(0, max) : value);
}

/**
 * The request body as JSON text, encoded here so that a failure (a body nested too deep for the
 * encoder's stack, a BigInt) is named a local `internal` error: it is not the upstream's fault,
 * must not be retried, and must not count toward the breaker.
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
