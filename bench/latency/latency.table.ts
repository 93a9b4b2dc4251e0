import {
  alignColumns,
  formatRate,
  formatRatio,
  formatSignedUs,
  formatUs,
  formatVerdict,
} from '../report/figures.format';
import type { LatencyReport } from './latency.report';

/** The report as the plain-text tables printed at the end of a run. */
export function formatReportTable(report: LatencyReport): string {
  const { added } = report;
  const count = report.sequential[0]?.summary.count ?? 0;
  const lines = [
    `Sequential calls (concurrency 1), ${count} measured per path, latency in µs`,
    ...alignColumns([
      ['path', 'p50', 'p90', 'p99', 'mean'],
      ...report.sequential.map(({ label, summary: s }) => [
        label,
        formatUs(s.p50),
        formatUs(s.p90),
        formatUs(s.p99),
        formatUs(s.mean),
      ]),
      [
        'added by LlmClient',
        ...[added.p50Us, added.p90Us, added.p99Us, added.meanUs].map(formatSignedUs),
      ],
      [
        'ratio LlmClient / direct http',
        formatRatio(added.ratioP50),
        '',
        formatRatio(added.ratioP99),
        formatRatio(added.ratioMean),
      ],
      ...report.limiters.map((l) => [
        `added by ${l.label}`,
        ...[l.added.p50Us, l.added.p90Us, l.added.p99Us, l.added.meanUs].map(formatSignedUs),
      ]),
    ]),
    formatVerdict(added.p99Us, report.targetP99AddedUs, report.targetMet),
    ...report.limiters.map(
      (l) => `${l.label}: ${formatVerdict(l.added.p99Us, l.targetP99AddedUs, l.targetMet)}`,
    ),
    ...(report.limitersPending ? [report.limitersPending] : []),
  ];
  const throughput = report.throughput;
  if (throughput) {
    lines.push(
      '',
      `Throughput at concurrency ${throughput.concurrency}, ${throughput.paths[0]?.calls ?? 0} calls per path`,
      ...alignColumns([
        ['path', 'calls/s', 'p50 µs', 'p99 µs'],
        ...throughput.paths.map((p) => [
          p.label,
          formatRate(p.callsPerSecond),
          formatUs(p.summary.p50),
          formatUs(p.summary.p99),
        ]),
      ]),
      `throughput LlmClient / direct http: ${formatRatio(throughput.ratio)}`,
    );
  }
  return lines.join('\n');
}
