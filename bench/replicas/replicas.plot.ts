import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT, renderPng } from '../report/plot.render';
import type { RunInfo } from '../report/run-info';
import type { ReplicasReport } from './replicas.report';

/**
 * The replicas run as a PNG readable at 800 px: requests that reached the simulator in each 1 s
 * interval over limit / 60, the bars of each phase, the phases as bands, and the 429s below.
 */
export function renderReplicasPlot(report: ReplicasReport, info: RunInfo): Promise<Buffer> {
  return renderPng(replicasPlotSpec(report, info));
}

function replicasPlotSpec(report: ReplicasReport, info: RunInfo): TopLevelSpec {
  const s = report.scenario;
  const phaseS = s.phaseMs / 1_000;
  const phases = report.phases.map((p, i) => ({
    phase: p.phase,
    from: i * phaseS,
    to: (i + 1) * phaseS,
    bar: p.bar,
  }));
  // Retries of calls still queued at the end may reach the simulator later: they count in the
  // figures, the plot shows the three phases.
  const seconds = { domain: [0, 3 * phaseS + 5], nice: false };
  const phaseColors = {
    domain: ['redis up', 'redis killed', 'redis back'],
    range: ['#2ca02c', '#d62728', '#1f77b4'],
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    config: {
      font: PLOT_FONT,
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 11 },
    },
    title: {
      text: `${s.replicas} gateways, one Redis, no replica count: ${s.rpm}/min in 1 s intervals`,
      fontSize: 13,
      subtitle: [
        ...report.phases.map(
          (p) =>
            `${p.phase}: worst second ${p.peakRatio.toFixed(2)} × limit/60 (bar ${p.bar}), ` +
            `${p.upstream429} upstream 429s: ${p.met ? 'met' : 'missed'}`,
        ),
        `offered ${s.offeredRatio} × the limit; ${s.limiter}`.slice(0, 95),
        `Node ${info.node}, ${info.date.slice(0, 10)}, load average ${info.loadAverage ?? '?'}`,
      ],
      subtitleFontSize: 11,
      anchor: 'start',
    },
    vconcat: [
      {
        title: {
          text: 'Requests reaching the simulator per 1 s ÷ (limit/60); dashed: the bar',
          fontSize: 12,
        },
        width: 720,
        height: 220,
        layer: [
          {
            data: { values: phases },
            mark: { type: 'rect', opacity: 0.08 },
            encoding: {
              x: { field: 'from', type: 'quantitative', scale: seconds },
              x2: { field: 'to' },
              color: { field: 'phase', type: 'nominal', scale: phaseColors, legend: null },
            },
          },
          {
            data: { values: phases },
            mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 11 },
            encoding: {
              x: { field: 'from', type: 'quantitative' },
              y: { value: 0 },
              text: { field: 'phase' },
            },
          },
          {
            data: { values: phases },
            mark: { type: 'rule', strokeDash: [4, 3], color: '#222' },
            encoding: {
              x: { field: 'from', type: 'quantitative' },
              x2: { field: 'to' },
              y: { field: 'bar', type: 'quantitative' },
            },
          },
          {
            data: { values: report.timeline },
            mark: {
              type: 'line',
              strokeWidth: 1.5,
              color: '#333',
              interpolate: 'step-after',
              clip: true,
            },
            encoding: {
              x: {
                field: 'second',
                type: 'quantitative',
                title: 'second of the run',
                scale: seconds,
              },
              y: { field: 'sentRatio', type: 'quantitative', title: '× limit/60' },
            },
          },
        ],
      },
      {
        title: { text: '429s the simulator sent, per second', fontSize: 12 },
        width: 720,
        height: 80,
        data: { values: report.timeline },
        mark: { type: 'bar', color: '#d62728', width: 4, clip: true },
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 'second of the run', scale: seconds },
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
