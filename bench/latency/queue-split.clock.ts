import * as os from 'node:os';
import * as path from 'node:path';

/** The headers `queue-split.ts` and its preloads stamp calls with (µs, monotonic clock). */
export const QUEUE_SPLIT_HEADERS = {
  /** Set by the client as it sends the request. */
  clientSent: 'x-qs-client-sent',
  /** Set by the upstream as it writes its answer's head. */
  upstreamWritten: 'x-qs-upstream-written',
  /** Set by a proxy as it writes its answer's head. */
  proxyWritten: 'x-qs-proxy-written',
} as const;

/**
 * Now on the machine's monotonic clock (`CLOCK_MONOTONIC`, what `process.hrtime` reads), in µs:
 * the same clock in every process, so stamps taken in two of them can be subtracted.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Where the proxy preload of process `pid` writes its figures. */
export function queueSplitFile(pid: number): string {
  return path.join(os.tmpdir(), `queue-split-${pid}.json`);
}

/** Means (µs) of one proxy's calls, and the waits' spread. */
export interface ProxySplit {
  calls: number;
  /** From the client's send to the proxy's `request` (waiting in the socket, then the head parsed). */
  toProxyUs: number;
  /** From the proxy's `request` to its upstream request's creation. */
  inProxyUs: number;
  /** From the upstream request's creation to the upstream's answer written (its latency, its queue). */
  upstreamUs: number;
  /** From the upstream's answer written to the proxy reading its head. */
  backToProxyUs: number;
  /** From the upstream answer's head read to the proxy's own answer ended. */
  backInProxyUs: number;
  /** p50 and p99 of `toProxyUs` and `backToProxyUs`. */
  toProxyP50Us: number;
  toProxyP99Us: number;
  backToProxyP50Us: number;
  backToProxyP99Us: number;
}
