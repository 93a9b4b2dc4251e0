import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT, renderPng } from '../report/plot.render';
import type { RunInfo } from '../report/run-info';
import type { OutageReport } from './outage.report';
import { formatOutageChecks } from './outage.format';

/**
 * The long outage as a PNG readable at 800 px: per second, the share of calls that succeeded and
 * the requests that reached the upstream, per strategy, with the outage as a band.
 */
export function renderOutagePlot(report: OutageReport, info: RunInfo): Promise<Buffer> {
  return renderPng(outagePlotSpec(report, info));
}

function outagePlotSpec(report: OutageReport, info: RunInfo): TopLevelSpec {
  const s = report.scenario;
  const order = report.strategies.map((f) => f.label);
  const values = report.strategies.flatMap((f) =>
    f.timeline.map((t) => ({
      strategy: f.label,
      second: t.second,
      success: t.offered ? (t.ok / t.offered) * 100 : null,
      upstream: t.upstream,
    })),
  );
  const totalS = (s.leadMs + s.outage.durationMs + s.afterMs) / 1_000;
  const band = [{ from: s.leadMs / 1_000, to: (s.leadMs + s.outage.durationMs) / 1_000 }];
  const x = {
    field: 'second',
    type: 'quantitative' as const,
    title: 'second of the run',
    scale: { domain: [0, totalS], nice: false },
  };
  const color = {
    field: 'strategy',
    type: 'nominal',
    sort: order,
    title: null,
    scale: { range: ['#7f7f7f', '#ff7f0e', '#1f77b4'] },
  } as const;
  const outageBand = {
    data: { values: band },
    mark: { type: 'rect' as const, color: '#d62728', opacity: 0.1 },
    encoding: {
      x: { field: 'from', type: 'quantitative' as const },
      x2: { field: 'to' },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    config: {
      font: PLOT_FONT,
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 11 },
      legend: { orient: 'bottom', labelFontSize: 11, labelLimit: 300 },
    },
    title: {
      text: `A minute of 503s (shaded): ${s.perSecond} calls/s, limit ${s.rpm}/min, real time`,
      fontSize: 13,
      subtitle: [
        ...formatOutageChecks(report).map((line) => `this module: ${line}`),
        `Node ${info.node}, ${info.date.slice(0, 10)}, load average ${info.loadAverage ?? '?'}`,
      ],
      subtitleFontSize: 11,
      anchor: 'start',
    },
    vconcat: [
      {
        title: { text: 'Calls that succeeded, by the second they were sent (%)', fontSize: 12 },
        width: 720,
        height: 150,
        layer: [
          outageBand,
          {
            data: { values },
            mark: { type: 'line', strokeWidth: 2, interpolate: 'step-after', opacity: 0.8 },
            encoding: {
              strokeDash: {
                field: 'strategy',
                type: 'nominal',
                sort: order,
                legend: null,
                scale: {
                  range: [
                    [1, 0],
                    [6, 3],
                    [2, 2],
                  ],
                },
              },
              x,
              y: {
                field: 'success',
                type: 'quantitative',
                title: '%',
                scale: { domain: [0, 100] },
              },
              color,
            },
          },
        ],
      },
      {
        title: {
          text: 'Requests reaching the upstream per second (the probes: this module)',
          fontSize: 12,
        },
        data: { values },
        facet: {
          row: {
            field: 'strategy',
            type: 'nominal',
            sort: order,
            title: null,
            header: { labelAngle: 0, labelAlign: 'left', labelOrient: 'top', labelFontSize: 11 },
          },
        },
        spacing: 6,
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 720,
          height: 45,
          mark: { type: 'bar', width: 6 },
          encoding: {
            x,
            y: { field: 'upstream', type: 'quantitative', title: null, axis: { tickCount: 3 } },
            color,
          },
        },
      },
    ],
  };
}
