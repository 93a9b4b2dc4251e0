import {
  formatRate,
  formatRatio,
  formatSignedUs,
  formatUs,
  formatVerdict,
} from '../report/figures.format';
import type { LatencyReport } from './latency.report';
import type { RunInfo } from '../report/run-info';

/** A markdown section the README can take as it is: the table, the verdict and the setup. */
export function formatReportMarkdown(report: LatencyReport, info: RunInfo): string {
  const { added } = report;
  const lines = [
    '| path | p50 (µs) | p90 (µs) | p99 (µs) | mean (µs) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.sequential.map(
      ({ label, summary: s }) =>
        `| ${label} | ${formatUs(s.p50)} | ${formatUs(s.p90)} | ${formatUs(s.p99)} | ${formatUs(s.mean)} |`,
    ),
    `| **added by LlmClient** | **${formatSignedUs(added.p50Us)}** | ${formatSignedUs(added.p90Us)} | **${formatSignedUs(added.p99Us)}** | ${formatSignedUs(added.meanUs)} |`,
    ...report.limiters.map(
      ({ label, added: a }) =>
        `| **added by ${label}** | **${formatSignedUs(a.p50Us)}** | ${formatSignedUs(a.p90Us)} | **${formatSignedUs(a.p99Us)}** | ${formatSignedUs(a.meanUs)} |`,
    ),
    '',
    `${capitalize(formatVerdict(added.p99Us, report.targetP99AddedUs, report.targetMet))}.`,
    ...report.limiters.flatMap((l) => [
      '',
      `${l.label}: ${formatVerdict(l.added.p99Us, l.targetP99AddedUs, l.targetMet)}.`,
    ]),
    ...(report.limitersPending ? ['', `${report.limitersPending}.`] : []),
  ];
  if (report.throughput) {
    const { concurrency, paths, ratio } = report.throughput;
    const rates = paths.map((p) => `${p.label} ${formatRate(p.callsPerSecond)} calls/s`);
    lines.push(
      '',
      `At concurrency ${concurrency}: ${rates.join(', ')} (LlmClient / direct http ${formatRatio(ratio)}).`,
    );
  }
  lines.push(
    '',
    `${info.parameters.calls} sequential calls per path after ${info.parameters.warmup} warm-up calls, ` +
      'interleaved, against the zero-latency simulator in its own process over loopback ' +
      '(the limiters with a budget so large no call waits; Redis on loopback); ' +
      `Node ${info.node} on ${info.machine.cpu} (${info.machine.cores} cores), ${info.date.slice(0, 10)}. ` +
      'Reproduce with `npm run bench`.',
  );
  return `${lines.join('\n')}\n`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
