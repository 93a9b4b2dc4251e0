import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT, type PlotPanel, renderPng } from '../report/plot.render';

/** A stretch of the scripted incident, in seconds since its start. */
export interface PreviewPhase {
  from: number;
  to: number;
  label: string;
}

/** One dashboard panel's data: its series over the incident. */
export interface PanelSeries {
  title: string;
  /** A state timeline (breaker state: 0 closed … 3 isolated). */
  state: boolean;
  series: { name: string; points: { t: number; v: number }[] }[];
}

const WIDTH = 430;
const HEIGHT = 130;
const STATES = ['closed', 'half-open', 'open', 'isolated'];

/** Renders the panels two by two, each over the incident's phases, as a PNG. */
export function renderDashboardPreview(
  panels: PanelSeries[],
  phases: PreviewPhase[],
): Promise<Buffer> {
  const charts = panels.map((panel) => chart(panel, phases));
  const rows: PlotPanel[] = [];
  for (let i = 0; i < charts.length; i += 2) {
    const pair = charts.slice(i, i + 2);
    rows.push(
      pair.length === 1
        ? pair[0]!
        : { hconcat: pair, resolve: { scale: { color: 'independent' } } },
    );
  }
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    config: {
      font: PLOT_FONT,
      legend: { orient: 'bottom', labelLimit: 260, columns: 2, symbolSize: 60 },
      view: { stroke: '#ddd' },
      title: { anchor: 'start', fontSize: 12 },
    },
    title: {
      text: 'LLM trends (Grafana dashboard): every panel query, evaluated by Prometheus over a scripted incident',
      subtitle: [
        'The gateway in front of the simulator, 4 callers, scraped every second; rate windows 5 s and the',
        '"last 5 minutes" stats over 10 s, so that the incident fits in 80 s. Drawn with vega-lite, not Grafana.',
        `Incident: ${phases.map((p) => `${p.from}–${p.to} s ${p.label}`).join('; ')}.`,
      ],
      fontSize: 15,
    },
    resolve: { scale: { color: 'independent' } },
    vconcat: rows,
  };
  return renderPng(spec);
}

function chart(panel: PanelSeries, phases: PreviewPhase[]): PlotPanel {
  const values = panel.series.flatMap((s) => s.points.map((p) => ({ series: s.name, ...p })));
  const x = {
    field: 't',
    type: 'quantitative' as const,
    title: 'seconds',
    scale: { domain: [0, 80] },
  };
  return {
    title: panel.title,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: phases },
        mark: { type: 'rect', opacity: 0.08 },
        encoding: {
          x: { field: 'from', type: 'quantitative', scale: { domain: [0, 80] } },
          x2: { field: 'to' },
          color: { value: '#555' },
        },
      },
      {
        data: { values: phases },
        mark: {
          type: 'text',
          align: 'left',
          baseline: 'top',
          dx: 2,
          dy: 2,
          fontSize: 8,
          color: '#666',
        },
        encoding: {
          x: { field: 'from', type: 'quantitative' },
          y: { value: 0 },
          text: { field: 'label' },
        },
      },
      {
        data: { values },
        mark: {
          type: 'line',
          interpolate: panel.state ? 'step-after' : 'linear',
          strokeWidth: 1.5,
        },
        encoding: {
          x,
          y: panel.state
            ? {
                field: 'v',
                type: 'quantitative',
                title: null,
                scale: { domain: [0, 3] },
                axis: { values: [0, 1, 2, 3], labelExpr: `${JSON.stringify(STATES)}[datum.value]` },
              }
            : { field: 'v', type: 'quantitative', title: null },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
    ],
  };
}
