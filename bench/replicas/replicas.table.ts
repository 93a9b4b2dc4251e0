import { alignColumns } from '../figures.format';
import type { PhaseFigures, ReplicasReport } from './replicas.report';

/** Gateway answers, most frequent first: `200 × 1200, 429 × 80`. */
export function formatAnswers(answers: Record<string, number>): string {
  return Object.entries(answers)
    .sort(([, a], [, b]) => b - a)
    .map(([status, n]) => `${status} × ${n}`)
    .join(', ');
}

/** One row per phase: the figures the README and the console show. */
export function phaseRow(p: PhaseFigures): string[] {
  return [
    p.phase,
    p.peakRatio.toFixed(3),
    p.meanRatio.toFixed(3),
    p.admittedRatio.toFixed(3),
    String(p.upstream429),
    String(p.max429PerWindow),
    formatAnswers(p.answers),
  ];
}

export const PHASE_HEADER = [
  'phase',
  'peak sent / limit',
  'mean sent / limit',
  'admitted / limit',
  '429s',
  'max 429s / window',
  'gateway answers',
];

/** The plain-text table printed at the end of the replicas benchmark. */
export function formatReplicasTable(report: ReplicasReport): string {
  const s = report.scenario;
  const check = crossCheck(report);
  return [
    `${s.replicas} gateway replicas, one Redis, one simulator limit of ${s.rpm} per minute ` +
      `(1 minute = ${s.minuteMs} ms), offered ${s.offeredRatio} × the limit; ${s.limiter}`,
    ...alignColumns([PHASE_HEADER, ...report.phases.map(phaseRow)]),
    report.target.verdict,
    ...(check ? [check] : []),
  ].join('\n');
}

/** What the gateways' own metrics say: upstream 429s and fallbacks from Redis. */
export function crossCheck(report: ReplicasReport): string {
  const parts: string[] = [];
  if (report.gateway429 !== null) {
    parts.push(`counted ${report.gateway429} upstream 429s in all`);
  }
  if (report.fallbacks !== null) {
    parts.push(`fell back from Redis to their local share ${report.fallbacks} times`);
  }
  return parts.length > 0 ? `The gateways' own metrics: they ${parts.join(' and ')}.` : '';
}
