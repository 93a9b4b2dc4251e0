import type { RunInfo } from '../run-info';
import type { LoadReport } from './load.report';
import { MODULE_STRATEGY_IDS } from './load-strategy';
import { formatFailures, formatLoadVerdicts, formatMs, formatPercent } from './load.table';

/** The load test as a markdown section the README can take as it is. */
export function formatLoadMarkdown(report: LoadReport, info: RunInfo): string {
  const { scenario: s } = report;
  const compression = Math.round(60_000 / s.minuteMs);
  const lines = [
    '| strategy | success | upstream attempts / request | 429s received | 503s received | p50 (ms) | p95 (ms) | p99 (ms) | failures |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...report.strategies.map((f) => {
      const l = f.latencyMs;
      const name = MODULE_STRATEGY_IDS.includes(f.id) ? `**${f.label}**` : f.label;
      return (
        `| ${name} | ${formatPercent(f.successRate, 2)} | ${f.attemptsPerRequest.toFixed(3)} | ` +
        `${f.upstream429} | ${f.upstream503} | ${formatMs(l?.p50)} | ${formatMs(l?.p95)} | ` +
        `${formatMs(l?.p99)} | ${formatFailures(f.failures)} |`
      );
    }),
    '',
    ...formatLoadVerdicts(report).map((line) => `- ${capitalize(line)}.`),
    '',
    ...report.strategies.map((f) => `- ${f.label}: ${f.description}.`),
    '',
    `${s.requestsPerStrategy} requests per strategy (bursts of ${s.burstSize} every ` +
      `${s.burstEveryS / 60} minutes plus a light steady stream: ${s.offeredAveragePerMinute.toFixed(0)} ` +
      `per minute on average, ${s.offeredPeakPerMinute} at peak) against a limit of ${s.rpm} per ` +
      `minute, with ${s.outage.durationS} s of ${s.outage.status} from minute ${s.outage.atS / 60}. ` +
      `Time compressed ${compression}× (1 minute = ${s.minuteMs} ms, the run lasts ` +
      `${s.realDurationS.toFixed(0)} s): latencies are real milliseconds. All strategies run at ` +
      `once, each against its own simulator process; Node ${info.node} on ${info.machine.cpu} ` +
      `(${info.machine.cores} cores), ${info.date.slice(0, 10)}. Reproduce with ` +
      '`BENCH_ONLY=load npm run bench`.',
  ];
  return `${lines.join('\n')}\n`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
