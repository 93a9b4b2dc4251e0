import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';
import { formatSignedUs, formatVerdict } from './figures.format';
import type { LatencyReport } from './latency.report';
import type { RunInfo } from './run-info';

// Shipped in an npm package so the PNG looks the same on every machine, fonts installed or not.
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((file) =>
  require.resolve(`dejavu-fonts-ttf/ttf/${file}`),
);
const FONT = 'DejaVu Sans';
const STATS = ['p50', 'p90', 'p99'] as const;

/**
 * Renders the report as a PNG: bars of p50/p90/p99 per path, and the percentile curves from
 * the median to p99.9 on a "number of nines" axis so the tail gets the room it deserves.
 */
export async function renderLatencyPlot(report: LatencyReport, info: RunInfo): Promise<Buffer> {
  // vega and vega-lite are ESM with top-level await: import(), never require().
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const view = new vega.View(vega.parse(vegaLite.compile(plotSpec(report, info)).spec), {
    renderer: 'none',
  });
  const svg = await view.toSVG();
  view.finalize();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: FONT },
  });
  return resvg.render().asPng();
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
    config: { font: FONT, legend: { orient: 'bottom' }, view: { stroke: null } },
    title: {
      text: 'Latency per call: LlmClient vs a direct HTTP call, zero-latency upstream',
      subtitle: [
        `Added by LlmClient: p50 ${formatSignedUs(added.p50Us)} µs, p99 ${formatSignedUs(added.p99Us)} µs; ` +
          formatVerdict(added.p99Us, report.targetP99AddedUs, report.targetMet),
        `${info.parameters.calls} sequential calls per path, interleaved; Node ${info.node}, ` +
          `${info.machine.cores} cores, ${info.date.slice(0, 10)}`,
      ],
      anchor: 'start',
    },
    hconcat: [
      {
        title: 'Percentiles (µs)',
        width: 360,
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
        width: 360,
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
