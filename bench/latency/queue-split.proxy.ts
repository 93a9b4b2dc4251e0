import * as diagnostics_channel from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { nowUs, type ProxySplit, QUEUE_SPLIT_HEADERS, queueSplitFile } from './queue-split.clock';

/**
 * Preloaded (`-r`) into a proxy (the floor, this gateway) by `queue-split.ts`, which signals it
 * between blocks of calls, when none is in flight. It notes, on the machine's monotonic clock:
 * for each chat request, the client's send stamp, when Node emitted it and when its answer ended
 * (stamping the answer's head as it is written); for each upstream request, when it was created;
 * for each upstream answer, the upstream's stamp of writing it and when its head was read. With
 * one upstream request per call, a mean step is the difference of two means, which needs no
 * telling which upstream request served which call. SIGUSR1 starts afresh; SIGUSR2 writes the
 * figures ({@link ProxySplit}) to {@link queueSplitFile}.
 */
let recording = false;
const totals = { calls: 0, clientSent: 0, arrived: 0, ended: 0, sent: 0, written: 0, read: 0 };
const counts = { requests: 0, answers: 0 };
let toProxy: number[] = [];
let backToProxy: number[] = [];

diagnostics_channel.subscribe('http.server.request.start', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  if (!request.url?.endsWith('/chat/completions')) return;
  const clientSent = Number(request.headers[QUEUE_SPLIT_HEADERS.clientSent]);
  const arrived = nowUs();
  const stamp = (): void => {
    if (!response.headersSent) response.setHeader(QUEUE_SPLIT_HEADERS.proxyWritten, nowUs());
  };
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.writeHead = (...args: unknown[]) => {
    stamp();
    return writeHead(...args);
  };
  response.end = ((...args: unknown[]) => {
    stamp();
    const result = end(...args);
    if (recording && Number.isFinite(clientSent)) {
      totals.calls++;
      totals.clientSent += clientSent;
      totals.arrived += arrived;
      totals.ended += nowUs();
      toProxy.push(arrived - clientSent);
    }
    return result;
  }) as ServerResponse['end'];
});

diagnostics_channel.subscribe('http.client.request.start', () => {
  if (!recording) return;
  counts.requests++;
  totals.sent += nowUs();
});

diagnostics_channel.subscribe('http.client.response.finish', (message) => {
  const { response } = message as { request: ClientRequest; response: IncomingMessage };
  const written = Number(response.headers[QUEUE_SPLIT_HEADERS.upstreamWritten]);
  if (!recording || !Number.isFinite(written)) return;
  const read = nowUs();
  counts.answers++;
  totals.written += written;
  totals.read += read;
  backToProxy.push(read - written);
});

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function split(): ProxySplit {
  const { calls } = totals;
  // Every call made one upstream request and read its answer (no retries at this load).
  const whole = calls > 0 && counts.requests === calls && counts.answers === calls;
  const mean = (sum: number): number => (whole ? sum / calls : Number.NaN);
  return {
    calls,
    toProxyUs: mean(totals.arrived - totals.clientSent),
    inProxyUs: mean(totals.sent - totals.arrived),
    upstreamUs: mean(totals.written - totals.sent),
    backToProxyUs: mean(totals.read - totals.written),
    backInProxyUs: mean(totals.ended - totals.read),
    toProxyP50Us: quantile(toProxy, 0.5),
    toProxyP99Us: quantile(toProxy, 0.99),
    backToProxyP50Us: quantile(backToProxy, 0.5),
    backToProxyP99Us: quantile(backToProxy, 0.99),
  };
}

process.on('SIGUSR1', () => {
  for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] = 0;
  counts.requests = counts.answers = 0;
  toProxy = [];
  backToProxy = [];
  recording = true;
});
process.on('SIGUSR2', () => {
  recording = false;
  fs.writeFileSync(queueSplitFile(process.pid), JSON.stringify(split()));
});
