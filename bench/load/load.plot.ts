import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT, type PlotPanel, renderPng } from '../plot.render';
import type { RunInfo } from '../run-info';
import type { LoadReport } from './load.report';
import { attemptsPanel, latencyPanel, successPanel } from './load-bars.plot';
import { formatLoadVerdicts } from './load.table';

/**
 * The load test as a PNG: success rate, upstream attempts per request and latency per strategy,
 * each against the target where there is one, and below them each strategy's failures over time
 * against the offered load, where the bursts and the outage show.
 */
export function renderLoadPlot(report: LoadReport, info: RunInfo): Promise<Buffer> {
  return renderPng(loadPlotSpec(report, info));
}

function loadPlotSpec(report: LoadReport, info: RunInfo): TopLevelSpec {
  const { scenario: s } = report;
  const order = report.strategies.map((f) => f.label);
  const compression = Math.round(60_000 / s.minuteMs);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    config: { font: PLOT_FONT, view: { stroke: null } },
    title: {
      text:
        `The seed's load test: bursts of ${s.burstSize} against a limit of ${s.rpm} per minute, ` +
        `${s.outage.durationS} s of ${s.outage.status} mid-run`,
      subtitle: [
        ...formatLoadVerdicts(report),
        `${s.requestsPerStrategy} requests per strategy, ${s.offeredAveragePerMinute.toFixed(0)} ` +
          `per minute on average, ${s.offeredPeakPerMinute} at peak`,
        `Time compressed ${compression}× (1 minute = ${s.minuteMs} ms); Node ${info.node}, ` +
          `${info.date.slice(0, 10)}`,
      ],
      anchor: 'start',
    },
    vconcat: [
      {
        hconcat: [
          successPanel(report, order),
          attemptsPanel(report, order),
          latencyPanel(report, order),
        ],
      },
      timelinePanel(report, order),
    ],
  };
}

function timelinePanel(report: LoadReport, order: string[]): PlotPanel {
  const { scenario: s } = report;
  const minutes = { domain: [0, (s.realDurationS * 1_000) / s.minuteMs], nice: false, padding: 0 };
  const peak = Math.max(1, ...report.timeline.map((t) => t.offered));
  const x = { field: 'minute', type: 'quantitative', scale: minutes } as const;
  return {
    title:
      'Failed requests (colour) over the requests offered (grey) per half minute; dashed: the outage',
    data: { values: report.timeline.map((t) => ({ ...t, strategy: t.label })) },
    facet: {
      row: {
        field: 'strategy',
        type: 'nominal',
        sort: order,
        title: null,
        header: { labelAngle: 0, labelAlign: 'left', labelOrient: 'left', labelLimit: 240 },
      },
    },
    spacing: 4,
    spec: {
      width: 760,
      height: 40,
      layer: [
        {
          mark: { type: 'bar', color: '#cccccc', width: 5 },
          encoding: {
            x: { ...x, title: 'scenario minute' },
            y: { field: 'offered', type: 'quantitative', title: null, axis: { values: [0, peak] } },
          },
        },
        {
          mark: { type: 'bar', width: 5 },
          encoding: {
            x,
            y: { field: 'failed', type: 'quantitative' },
            color: { field: 'strategy', type: 'nominal', sort: order, legend: null },
          },
        },
        {
          mark: { type: 'rule', strokeDash: [4, 3], color: '#d62728' },
          encoding: { x: { datum: s.outage.atS / 60 } },
        },
      ],
    },
  };
}
