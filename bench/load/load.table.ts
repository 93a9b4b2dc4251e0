import { alignColumns } from '../figures.format';
import type { LatencyMs, LoadReport } from './load.report';

/** Percent with `digits` decimals: `99.90 %`. */
export function formatPercent(ratio: number, digits = 1): string {
  return `${(ratio * 100).toFixed(digits)} %`;
}

/** Milliseconds, whole above 10: `4`, `1,234`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return ms < 10 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en-US');
}

/** The failures of one strategy, most frequent first: `http 429 × 212, http 503 × 30`. */
export function formatFailures(failures: Record<string, number>): string {
  const entries = Object.entries(failures).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? 'none' : entries.map(([why, n]) => `${why} × ${n}`).join(', ');
}

/** The verdicts on the issue's target, one line per configuration, a miss said as plainly as a hit. */
export function formatLoadVerdicts(report: LoadReport): string[] {
  const { target } = report;
  if (target.verdicts.length === 0) return ['this module was not measured'];
  return target.verdicts.map(
    (v) =>
      `target ≥ ${formatPercent(target.successRate)} success with ≤ ` +
      `${target.attemptsPerRequest} upstream attempts per request, ${v.label}: ` +
      `${v.met ? 'met' : `missed (${v.missed.join(' and ')})`} — ` +
      `${formatPercent(v.successRate, 2)} success, ${v.attemptsPerRequest.toFixed(3)} attempts per request`,
  );
}

/** The plain-text table printed at the end of the load test. */
export function formatLoadTable(report: LoadReport): string {
  const { scenario: s } = report;
  const latency = (l: LatencyMs | null) => [formatMs(l?.p50), formatMs(l?.p95), formatMs(l?.p99)];
  return [
    `Load test: ${s.requestsPerStrategy} requests per strategy, limit ${s.rpm} per minute ` +
      `(1 minute = ${s.minuteMs} ms), offered ${s.offeredAveragePerMinute.toFixed(0)} per minute ` +
      `on average, ${s.offeredPeakPerMinute} at peak; ${s.outage.durationS} s of ${s.outage.status} mid-run`,
    ...alignColumns([
      ['strategy', 'success', 'attempts/req', '429s', '503s', 'p50 ms', 'p95 ms', 'p99 ms'],
      ...report.strategies.map((f) => [
        f.label,
        formatPercent(f.successRate, 2),
        f.attemptsPerRequest.toFixed(3),
        String(f.upstream429),
        String(f.upstream503),
        ...latency(f.latencyMs),
      ]),
    ]),
    ...report.strategies.map((f) => `  ${f.label}: failures ${formatFailures(f.failures)}`),
    ...formatLoadVerdicts(report),
  ].join('\n');
}
