import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT, renderPng } from '../plot.render';
import type { RunInfo } from '../run-info';
import { REPLICAS_TARGET_RATIO, type ReplicasReport } from './replicas.report';

/**
 * The replicas run as a PNG: requests that reached the simulator in the last window over its
 * limit (sent and admitted), the 429s it sent, and the three phases as bands.
 */
export function renderReplicasPlot(report: ReplicasReport, info: RunInfo): Promise<Buffer> {
  return renderPng(replicasPlotSpec(report, info));
}

function replicasPlotSpec(report: ReplicasReport, info: RunInfo): TopLevelSpec {
  const s = report.scenario;
  const phases = report.phases.map((p, i) => ({
    phase: p.phase,
    from: i * s.phaseMinutes,
    to: (i + 1) * s.phaseMinutes,
    label: p.phase,
  }));
  const lines = report.timeline.flatMap((t) => [
    { minute: t.minute, series: 'sent to the simulator', ratio: t.sentRatio },
    { minute: t.minute, series: 'admitted by the simulator', ratio: t.admittedRatio },
  ]);
  const phaseColors = {
    domain: ['redis up', 'redis down', 'redis back'],
    range: ['#2ca02c', '#d62728', '#1f77b4'],
  };
  const minutes = { domain: [0, phases.at(-1)?.to ?? 1] };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    config: { font: PLOT_FONT, legend: { orient: 'bottom' }, view: { stroke: null } },
    title: {
      text: `${s.replicas} gateway replicas, one Redis, one limit of ${s.rpm} per minute`,
      subtitle: [
        report.target.verdict,
        `${s.limiter}; offered ${s.offeredRatio} × the limit`,
        `Time compressed ${Math.round(60_000 / s.minuteMs)}× (1 minute = ${s.minuteMs} ms); ` +
          `Node ${info.node}, ${info.date.slice(0, 10)}`,
      ],
      anchor: 'start',
    },
    vconcat: [
      {
        title: 'Requests in the last minute ÷ the limit (dashed: the target)',
        width: 760,
        height: 220,
        resolve: { scale: { color: 'independent' } },
        layer: [
          {
            data: { values: phases },
            mark: { type: 'rect', opacity: 0.08 },
            encoding: {
              x: { field: 'from', type: 'quantitative' },
              x2: { field: 'to' },
              color: { field: 'phase', type: 'nominal', scale: phaseColors, legend: null },
            },
          },
          {
            data: { values: phases },
            mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 10 },
            encoding: {
              x: { field: 'from', type: 'quantitative' },
              y: { value: 0 },
              text: { field: 'label' },
            },
          },
          {
            data: { values: [{ y: REPLICAS_TARGET_RATIO }] },
            mark: { type: 'rule', strokeDash: [4, 3], color: '#444' },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
          {
            data: { values: lines },
            mark: { type: 'line', strokeWidth: 1.5 },
            encoding: {
              x: {
                field: 'minute',
                type: 'quantitative',
                title: 'scenario minute',
                scale: minutes,
              },
              y: { field: 'ratio', type: 'quantitative', title: '× the limit' },
              color: {
                field: 'series',
                type: 'nominal',
                title: null,
                legend: { labelLimit: 400 },
              },
            },
          },
        ],
      },
      {
        title: '429s the simulator sent, per quarter minute',
        width: 760,
        height: 90,
        data: { values: report.timeline },
        mark: { type: 'bar', color: '#d62728', width: 3 },
        encoding: {
          x: { field: 'minute', type: 'quantitative', title: 'scenario minute', scale: minutes },
          y: {
            field: 'rejected',
            type: 'quantitative',
            title: '429s',
            axis: { tickMinStep: 1, format: 'd' },
          },
        },
      },
    ],
  };
}
