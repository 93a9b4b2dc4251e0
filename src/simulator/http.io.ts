import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openAiErrorBody, type OpenAiErrorInit } from './openai-error.body';

/** Extra response headers; values are sent as they are. */
export type HeaderMap = Readonly<Record<string, string | number>>;

/** An id shaped like OpenAI's `x-request-id` (`req_` and 24 hex digits). */
export function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

/** Reads the whole request body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** The parsed JSON, or `undefined` when the text is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Answers with a JSON body, unless the client has already gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: HeaderMap = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answers with OpenAI's `{ error: {...} }` body. */
export function sendError(
  res: ServerResponse,
  status: number,
  error: OpenAiErrorInit,
  headers: HeaderMap = {},
): void {
  sendJson(res, status, openAiErrorBody(error), headers);
}

/**
 * Waits `ms` (forever for `Infinity`) unless `signal` aborts first: the client left or the
 * simulator closed. Resolves `true` when the full wait passed, so callers stop on `false`.
 *
 * @example
 * if (!(await sleep(50, signal))) return; // nobody is listening any more
 */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    // setTimeout(fn, Infinity) would fire after 1 ms, so a forever-wait only listens for abort.
    const timer = Number.isFinite(ms) ? setTimeout(done, ms, true) : undefined;
    const onAbort = (): void => done(false);
    signal.addEventListener('abort', onAbort, { once: true });
    function done(completed: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(completed);
    }
  });
}
