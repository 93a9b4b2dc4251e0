import type { RunInfo } from '../run-info';
import type { ReplicasReport } from './replicas.report';
import { crossCheck, PHASE_HEADER, phaseRow } from './replicas.table';

/** The replicas benchmark as a markdown section the README can take as it is. */
export function formatReplicasMarkdown(report: ReplicasReport, info: RunInfo): string {
  const s = report.scenario;
  const check = crossCheck(report);
  const lines = [
    `| ${PHASE_HEADER.join(' | ')} |`,
    `| --- | ${PHASE_HEADER.slice(1, -1)
      .map(() => '---:')
      .join(' | ')} | --- |`,
    ...report.phases.map((p) => `| ${phaseRow(p).join(' | ')} |`),
    '',
    `${capitalize(report.target.verdict)}.${check ? ` ${check}` : ''}`,
    '',
    `${s.replicas} gateway processes (\`src/main.ts\`) share one simulator limit of ${s.rpm} ` +
      `requests per minute through one redis-server; the benchmark offers ${s.offeredRatio} × the ` +
      `limit to them in turn, stops Redis after ${s.phaseMinutes} minutes and starts an empty ` +
      `one on the same port ${s.phaseMinutes} minutes later. ${capitalize(s.limiter)}. Time compressed ` +
      `${Math.round(60_000 / s.minuteMs)}× (1 minute = ${s.minuteMs} ms); Node ${info.node} on ` +
      `${info.machine.cpu} (${info.machine.cores} cores), ${info.date.slice(0, 10)}. Reproduce ` +
      'with `BENCH_ONLY=replicas npm run bench`.',
  ];
  return `${lines.join('\n')}\n`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
