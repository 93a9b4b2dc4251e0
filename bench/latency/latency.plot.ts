import type { TopLevelSpec } from 'vega-lite';
import { formatSignedUs, formatVerdict } from '../report/figures.format';
import type { LatencyReport } from './latency.report';
import { PLOT_FONT as FONT, renderPng } from '../report/plot.render';
import type { RunInfo } from '../report/run-info';

const STATS = ['p50', 'p90', 'p99'] as const;

/**
 * Renders the report as a PNG: bars of p50/p90/p99 per path, and the percentile curves from
 * the median to p99.9 on a "number of nines" axis so the tail gets the room it deserves.
 */
export async function renderLatencyPlot(report: LatencyReport, info: RunInfo): Promise<Buffer> {
  return renderPng(plotSpec(report, info));
}

function plotSpec(report: LatencyReport, info: RunInfo): TopLevelSpec {
  const order = report.sequential.map((p) => p.label);
  const color = { field: 'path', type: 'nominal', sort: order, title: null } as const;
  const bars = report.sequential.flatMap((p) =>
    STATS.map((stat) => ({ path: p.label, stat, us: Math.round(p.summary[stat]) })),
  );
  const curves = report.curves.map((c) => ({
    path: c.label,
    nines: -Math.log10(1 - c.quantile),
    us: c.us,
  }));
  const { added } = report;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    config: { font: FONT, legend: { orient: 'bottom', labelLimit: 300 }, view: { stroke: null } },
    title: {
      text: 'Latency per call: LlmClient (with and without a rate limiter) vs a direct HTTP call',
      subtitle: [
        `Added by LlmClient: p50 ${formatSignedUs(added.p50Us)} µs, p99 ${formatSignedUs(added.p99Us)} µs; ` +
          formatVerdict(added.p99Us, report.targetP99AddedUs, report.targetMet),
        ...report.limiters.map(
          (l) =>
            `Added by ${l.label}: p50 ${formatSignedUs(l.added.p50Us)} µs, ` +
            `p99 ${formatSignedUs(l.added.p99Us)} µs; ` +
            formatVerdict(l.added.p99Us, l.targetP99AddedUs, l.targetMet),
        ),
        ...(report.limitersPending ? [report.limitersPending] : []),
        `${info.parameters.calls} sequential calls per path, interleaved; Node ${info.node}, ` +
          `${info.machine.cores} cores, ${info.date.slice(0, 10)}`,
      ],
      anchor: 'start',
    },
    hconcat: [
      {
        title: 'Percentiles (µs)',
        width: 440,
        height: 260,
        data: { values: bars },
        encoding: {
          x: {
            field: 'stat',
            type: 'nominal',
            sort: [...STATS],
            title: null,
            axis: { labelAngle: 0 },
          },
          xOffset: { field: 'path', type: 'nominal', sort: order },
          y: { field: 'us', type: 'quantitative', title: 'µs per call' },
          color,
        },
        layer: [
          { mark: 'bar' },
          { mark: { type: 'text', dy: -6, fontSize: 9 }, encoding: { text: { field: 'us' } } },
        ],
      },
      {
        title: 'Percentile curve, median to p99.9 (µs)',
        width: 440,
        height: 260,
        data: { values: curves },
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'nines',
            type: 'quantitative',
            title: 'percentile',
            scale: { domain: [0.25, 3] },
            axis: {
              values: [Math.log10(2), 1, 2, 3],
              labelExpr:
                "{'0.301': 'p50', '1': 'p90', '2': 'p99', '3': 'p99.9'}[format(datum.value, '.3~f')]",
            },
          },
          y: {
            field: 'us',
            type: 'quantitative',
            title: 'µs per call (log scale)',
            scale: { type: 'log' },
          },
          color,
        },
      },
    ],
  };
}
