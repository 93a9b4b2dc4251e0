import { alignColumns } from '../report/figures.format';
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
    `${p.peakRatio.toFixed(2)} (≤ ${p.bar})`,
    p.meanRatio.toFixed(2),
    String(p.intervalsOver),
    String(p.upstream429),
    p.met ? 'met' : 'missed',
    formatAnswers(p.answers),
  ];
}

export const PHASE_HEADER = [
  'phase',
  'worst 1 s / (limit/60)',
  'mean 1 s / (limit/60)',
  'intervals over',
  'upstream 429s',
  'target',
  'gateway answers',
];

/** One line on the scenario. */
export function describeReplicas(report: ReplicasReport): string {
  const s = report.scenario;
  return (
    `${s.replicas} gateway replicas, one Redis, no replica count configured; one simulator ` +
    `limit of ${s.rpm} per minute enforced per 1 s interval (${s.perInterval} per second), ` +
    `offered ${s.offeredRatio} × the limit for ${(3 * s.phaseMs) / 1_000} s in real time; ` +
    `Redis killed after ${s.phaseMs / 1_000} s, an empty one back ${s.phaseMs / 1_000} s later`
  );
}

/** The plain-text table printed at the end of the replicas benchmark. */
export function formatReplicasTable(report: ReplicasReport): string {
  const check = crossCheck(report);
  return [
    describeReplicas(report),
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
