import type { RunInfo } from '../report/run-info';
import type { JobsReport, WaitFigures } from './jobs.report';

const s = (value: number) => `${value.toFixed(1)} s`;
const waits = (w: WaitFigures) => `${s(w.p50)} / ${s(w.p95)} / ${s(w.p99)}`;
const kinds = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ') || 'none';

/** The jobs benchmark as Markdown, for bench/results/jobs.md and the README. */
export function formatJobsMarkdown(report: JobsReport, info: RunInfo): string {
  const c = report.scenario;
  const rows = report.jobs.map(
    (j) =>
      `| ${j.name} | ${j.accepted} | ${j.completed} (${j.completedWithinDeadline} in deadline) | ` +
      `${kinds(j.failed)} | ${j.lost} / ${j.duplicated} | ${j.attemptsPerJob.toFixed(3)} | ` +
      `${j.upstream429} of ${j.upstreamRequests} | ${j.delayedJobs} | ${waits(j.queueWaitS)} | ` +
      `${waits(j.resultS)} | ${s(j.drainedAtS)} |`,
  );
  const sync = report.sync;
  const kill = report.jobs.find((j) => j.kill)?.kill;
  return `# Jobs benchmark: waiting instead of failing

${report.verdict}

Offered load: ${c.offeredRatio} × the provider's limit of ${c.rpm} requests per minute, Poisson
arrivals for ${c.offerSeconds} s, the same load on each path at the same time, each against a
simulator of its own (${c.latencyMs} ms per answer, 429 above the limit). Jobs: ${c.workers}
\`npm run worker\` processes per path with the module's defaults and \`LLM_RPM=${c.rpm}\` shared in
Redis.${kill ? ` In the second jobs path one worker was killed (SIGKILL) at ${s(kill.atS)} and a new one started at ${s(kill.restartedAtS)}.` : ''}
Node ${info.node}, ${info.date.slice(0, 10)}.

| path | accepted | completed | failed | lost / duplicated | upstream attempts per job | upstream 429s | delayed (waited in the broker) | queue wait p50 / p95 / p99 | time to result p50 / p95 / p99 | all done at |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

| synchronous path | offered | succeeded | failures | latency of successes p50 / p95 / p99 | upstream 429s |
| --- | --- | --- | --- | --- | --- |
| LlmClient.chat, defaults | ${sync.offered} | ${sync.succeeded} (${(sync.successRate * 100).toFixed(1)} %) | ${kinds(sync.failures)} | ${waits(sync.latencyS)} | ${sync.upstream429} of ${sync.upstreamRequests} |

Targets (issue 12): every job completed within its deadline, upstream attempts per job ≤ 1.05,
upstream 429s ≤ 0.1 %, none lost or duplicated; the same with a worker killed mid-run.
`;
}
