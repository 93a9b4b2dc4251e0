import { alignColumns } from '../report/figures.format';
import type { LatencyMs, LoadReport, ModeReport } from './load.report';

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

/** The module's verdict under one mode, a miss said as plainly as a hit. */
export function formatModeVerdict(mode: ModeReport): string {
  if (!mode.verdict) return `${mode.label}: this module was not measured`;
  const checks = mode.verdict.checks.map(
    (c) => `${c.name} ${c.measured} (${c.bar}${c.met ? '' : ', missed'})`,
  );
  return `${mode.label}: ${mode.verdict.met ? 'target met' : 'target missed'}: ${checks.join(', ')}`;
}

/** One line on the scenario, shared by the console, the markdown and the plot. */
export function describeScenario(report: LoadReport): string {
  const s = report.scenario;
  return (
    `${s.requestsPerStrategy} requests per strategy in ${s.durationMs / 1_000} s, real time: ` +
    `bursts of ${s.burstSize} within ${s.burstSpreadMs / 1_000} s every ${s.burstEveryMs / 1_000} s ` +
    `over ${s.backgroundPerSecond}/s steady (${s.offeredAveragePerMinute.toFixed(0)} per minute ` +
    `on average, ${s.offeredPeakPerSecond} in the busiest second) against a limit of ${s.rpm} ` +
    `per minute, with ${s.outage.durationMs / 1_000} s of ${s.outage.status} from ` +
    `${s.outage.atMs / 1_000} s`
  );
}

/** The plain-text tables printed at the end of the load test, one per mode. */
export function formatLoadTable(report: LoadReport): string {
  const latency = (l: LatencyMs | null) => [formatMs(l?.p50), formatMs(l?.p95), formatMs(l?.p99)];
  const lines = [`Load test: ${describeScenario(report)}`];
  for (const mode of report.modes) {
    lines.push(
      '',
      `${mode.label}:`,
      ...alignColumns([
        ['strategy', 'success', 'attempts/req', '429s', '503s', 'p50 ms', 'p95 ms', 'p99 ms'],
        ...mode.strategies.map((f) => [
          f.label,
          formatPercent(f.successRate, 2),
          f.attemptsPerRequest.toFixed(3),
          String(f.upstream429),
          String(f.upstream503),
          ...latency(f.latencyMs),
        ]),
      ]),
      ...mode.strategies.map((f) => `  ${f.label}: failures ${formatFailures(f.failures)}`),
    );
  }
  lines.push('', ...report.modes.map(formatModeVerdict));
  return lines.join('\n');
}
