import * as http from 'node:http';
import { QUEUE_SPLIT_HEADERS, nowUs } from './queue-split.clock';

/**
 * Preloaded (`-r`) into the simulator by `queue-split.ts`: each answer carries the moment its
 * head was written (`x-qs-upstream-written`, µs on the machine's monotonic clock, which every
 * process shares), so a proxy can tell how long the answer waited before it read it.
 */
const stamp = (res: http.ServerResponse): void => {
  if (!res.headersSent) res.setHeader(QUEUE_SPLIT_HEADERS.upstreamWritten, String(nowUs()));
};
// Node's own methods, called with the response they are patched onto.
// eslint-disable-next-line @typescript-eslint/unbound-method -- applied to `this` below
const { writeHead, end } = http.ServerResponse.prototype;
http.ServerResponse.prototype.writeHead = function (
  this: http.ServerResponse,
  ...args: unknown[]
): http.ServerResponse {
  stamp(this);
  return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
};
http.ServerResponse.prototype.end = function (
  this: http.ServerResponse,
  ...args: unknown[]
): http.ServerResponse {
  stamp(this);
  return (end as (...a: unknown[]) => http.ServerResponse).apply(this, args);
};
