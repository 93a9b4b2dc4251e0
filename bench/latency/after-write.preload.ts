import * as diagnostics_channel from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { afterWriteFile } from './after-write.file';

/**
 * Preloaded (`-r`) into a proxy by `after-write.ts`: splits the event loop's active time of
 * sequential chat calls at the moment the answer is written. `work` is the active time from a chat
 * request's arrival to its response's `end()` (the upstream's wait is idle, so not counted);
 * `after` the active time from that `end()` to the next chat request's arrival: what the proxy
 * does once the client has its answer (span ends, metric records, events, Node's own finishing),
 * with the next request's parsing. SIGUSR1 starts counting afresh; SIGUSR2 writes
 * `{ calls, workUs, afterUs }` (µs per call) to {@link afterWriteFile} of this process.
 */
let calls = 0;
let gaps = 0;
let workMs = 0;
let afterMs = 0;
let lastEnd: EventLoopUtilization | undefined;

// Node publishes every request it is about to emit; wrapping that response's `end` marks the write.
diagnostics_channel.subscribe('http.server.request.start', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  if (!request.url?.endsWith('/chat/completions')) return;
  const arrived = performance.eventLoopUtilization();
  if (lastEnd) {
    afterMs += performance.eventLoopUtilization(arrived, lastEnd).active;
    gaps++;
    lastEnd = undefined;
  }
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.end = ((...args: unknown[]) => {
    const result = end(...args);
    const ended = performance.eventLoopUtilization();
    workMs += performance.eventLoopUtilization(ended, arrived).active;
    calls++;
    lastEnd = ended;
    return result;
  }) as ServerResponse['end'];
});

process.on('SIGUSR1', () => {
  calls = gaps = workMs = afterMs = 0;
  lastEnd = undefined;
});
process.on('SIGUSR2', () => {
  const perCall = (ms: number, n: number) => (n === 0 ? 0 : (ms * 1e3) / n);
  const result = { calls, workUs: perCall(workMs, calls), afterUs: perCall(afterMs, gaps) };
  fs.writeFileSync(afterWriteFile(process.pid), JSON.stringify(result));
});
