import type { RunInfo } from '../report/run-info';
import type { ReplicasReport } from './replicas.report';
import { crossCheck, describeReplicas, PHASE_HEADER, phaseRow } from './replicas.table';

/** The replicas benchmark as a markdown section bench/README.md takes as it is. */
export function formatReplicasMarkdown(report: ReplicasReport, info: RunInfo): string {
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
    `${capitalize(describeReplicas(report))}. ${capitalize(report.scenario.limiter)}. ` +
      `Node ${info.node} on ${info.machine.cpu} (${info.machine.cores} cores), ` +
      `${info.date.slice(0, 16)}Z, load average ${info.loadAverage ?? '?'} at the start. ` +
      'Reproduce with `npm run bench -- replicas`.',
  ];
  return `${lines.join('\n')}\n`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
