import { alignColumns } from '../report/figures.format';
import { formatMs, formatPercent } from '../load/load.table';
import type { RunInfo } from '../report/run-info';
import type { OutageFigures, OutageReport } from './outage.report';

const HEADER = [
  'strategy',
  'success',
  'upstream requests in the outage',
  'first break after',
  'rejected p50 / p99 after it',
  'probes per break',
  'breaks (s between probes)',
  '≥ 99 % again after',
];

function row(f: OutageFigures): string[] {
  const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1_000).toFixed(1)} s`);
  const r = f.rejectedAfterBreak;
  const p = f.probesPerBreak;
  return [
    f.label,
    `${formatPercent(f.succeeded / f.offered, 2)}${f.unfinished ? ` (${f.unfinished} unfinished)` : ''}`,
    String(f.upstreamDuringOutage),
    seconds(f.firstBreakAfterMs),
    r ? `${formatMs(r.p50)} / ${formatMs(r.p99)} ms (${r.count})` : '-',
    p ? `max ${p.max}, mean ${p.mean.toFixed(2)}` : '-',
    p ? `${p.breaks} (${p.gapsMs.map((g) => (g / 1_000).toFixed(1)).join(', ')})` : '-',
    seconds(f.recoveredAfterMs),
  ];
}

/** One line on the scenario. */
export function describeOutage(report: OutageReport): string {
  const s = report.scenario;
  return (
    `${s.perSecond} calls per second (Poisson) against a limit of ${s.rpm} per minute ` +
    `(${s.mode}), in real time: ${s.leadMs / 1_000} s of service, ${s.outage.durationMs / 1_000} s ` +
    `of ${s.outage.status}, then ${s.afterMs / 1_000} s of service`
  );
}

/** The module's checks, one line each. */
export function formatOutageChecks(report: OutageReport): string[] {
  return report.checks.map(
    (c) => `${c.name}: ${c.measured} (${c.bar}): ${c.met ? 'met' : 'missed'}`,
  );
}

/** The plain-text table printed at the end of the run. */
export function formatOutageTable(report: OutageReport): string {
  return [
    `Long outage: ${describeOutage(report)}`,
    ...alignColumns([HEADER, ...report.strategies.map(row)]),
    ...formatOutageChecks(report).map((line) => `this module, defaults: ${line}`),
  ].join('\n');
}

/** The markdown section bench/README.md takes as it is. */
export function formatOutageMarkdown(report: OutageReport, info: RunInfo): string {
  const lines = [
    `| ${HEADER.join(' | ')} |`,
    `| --- | ${HEADER.slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
    ...report.strategies.map((f) => `| ${row(f).join(' | ')} |`),
    '',
    ...formatOutageChecks(report).map((line) => `- This module, defaults: ${line}.`),
    '',
    `${describeOutage(report)}. Each strategy against its own simulator, at once. A break's ` +
      'probes are the upstream requests after the last one before the first silent second, grouped when ' +
      `less than 0.5 s apart. Node ${info.node} on ${info.machine.cpu} ` +
      `(${info.machine.cores} cores), ${info.date.slice(0, 16)}Z, load average ` +
      `${info.loadAverage ?? '?'} at the start. Reproduce with \`npm run bench -- outage\`.`,
  ];
  return `${lines.join('\n')}\n`;
}
