import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT, renderPng } from '../report/plot.render';
import type { RunInfo } from '../report/run-info';
import type { JobsReport } from './jobs.report';

/** Completions over time by path, and the jobs' waits beside the synchronous path's successes. */
export function renderJobsPlot(report: JobsReport, info: RunInfo): Promise<Buffer> {
  const c = report.scenario;
  const limitPer5s = (c.rpm / 60) * 5;
  const timeline = withEmptyBuckets(report.timeline);
  const bars = [
    ...report.jobs.flatMap((j) =>
      (['p50', 'p95', 'p99'] as const).map((q) => ({ path: j.name, q, seconds: j.resultS[q] })),
    ),
    ...(['p50', 'p95', 'p99'] as const).map((q) => ({
      path: 'synchronous (successes)',
      q,
      seconds: report.sync.latencyS[q],
    })),
  ];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    config: {
      font: PLOT_FONT,
      legend: { orient: 'bottom', labelLimit: 400 },
      view: { stroke: null },
    },
    resolve: { scale: { color: 'independent' } },
    title: {
      text: `${c.offeredRatio} × the provider's limit for ${c.offerSeconds} s: synchronous calls vs durable jobs`,
      subtitle: [
        `Synchronous success ${(report.sync.successRate * 100).toFixed(1)} %; jobs completed ` +
          report.jobs
            .map(
              (j) => `${((j.completed / Math.max(j.accepted, 1)) * 100).toFixed(1)} % (${j.name})`,
            )
            .join(', '),
        `Limit ${c.rpm} per minute; Node ${info.node}, ${info.date.slice(0, 10)}`,
      ],
      anchor: 'start',
    },
    vconcat: [
      {
        title: 'Answers per 5 s (dashed: the provider’s limit)',
        width: 620,
        height: 220,
        layer: [
          {
            data: { values: timeline },
            mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after' },
            encoding: {
              x: { field: 'second', type: 'quantitative', title: 'seconds since the start' },
              y: { field: 'completed', type: 'quantitative', title: 'answers' },
              color: { field: 'path', type: 'nominal', title: null },
            },
          },
          {
            data: { values: [{ y: limitPer5s }] },
            mark: { type: 'rule', strokeDash: [4, 3], color: '#444' },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
        ],
      },
      {
        title: {
          text: [
            'Time to a result, p50 / p95 / p99',
            '(jobs: from enqueue; synchronous: successes only)',
          ],
        },
        width: 620,
        height: 160,
        data: { values: bars },
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'path', type: 'nominal', title: null, axis: { labelLimit: 300 } },
          yOffset: { field: 'q' },
          x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
          color: { field: 'q', type: 'nominal', title: null },
        },
      },
    ],
  };
  return renderPng(spec);
}

/** Buckets with no answer, as 0: a gap in the data must not read as the previous bucket's count. */
function withEmptyBuckets(timeline: JobsReport['timeline']): JobsReport['timeline'] {
  const last = Math.max(0, ...timeline.map((t) => t.second));
  const paths = [...new Set(timeline.map((t) => t.path))];
  const counts = new Map(timeline.map((t) => [`${t.path}@${t.second}`, t.completed]));
  return paths.flatMap((path) =>
    Array.from({ length: last / 5 + 1 }, (_, i) => ({
      second: i * 5,
      path,
      completed: counts.get(`${path}@${i * 5}`) ?? 0,
    })),
  );
}
