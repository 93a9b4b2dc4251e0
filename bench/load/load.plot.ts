import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT, type PlotPanel, renderPng } from '../report/plot.render';
import type { RunInfo } from '../report/run-info';
import { ENFORCEMENT_MODE_IDS, ENFORCEMENT_MODES } from '../support/enforcement.modes';
import type { LoadReport, ModeReport } from './load.report';
import { formatMs, formatPercent } from './load.table';

/**
 * The load test as a PNG readable at 800 px: success, upstream attempts per request, upstream
 * 429s and p99 per strategy, one bar per enforcement mode, each against the target where there
 * is one.
 */
export function renderLoadPlot(report: LoadReport, info: RunInfo): Promise<Buffer> {
  return renderPng(loadPlotSpec(report, info));
}

interface Row {
  strategy: string;
  mode: string;
  success: number;
  attempts: number;
  rate429: number;
  p99: number;
}

function loadPlotSpec(report: LoadReport, info: RunInfo): TopLevelSpec {
  const strategies = report.modes[0]?.strategies.map((s) => s.label) ?? [];
  // Every mode keeps its colour, whichever modes ran.
  const modes = ENFORCEMENT_MODE_IDS.map((id) => ENFORCEMENT_MODES[id].short);
  const rows: Row[] = report.modes.flatMap((mode) =>
    mode.strategies.map((f) => ({
      strategy: f.label,
      mode: ENFORCEMENT_MODES[mode.id].short,
      success: f.successRate * 100,
      attempts: f.attemptsPerRequest,
      rate429: (f.upstream429 / f.requests) * 100,
      p99: Math.max(1, Math.round(f.latencyMs?.p99 ?? 1)),
    })),
  );
  const panel = (
    title: string,
    field: keyof Row,
    options: { log?: boolean; domain?: number[]; target?: number; labels?: boolean },
  ): PlotPanel => ({
    title: { text: title, fontSize: 11 },
    width: 235,
    height: 190,
    layer: [
      {
        data: { values: rows },
        // Bars on a log scale have no base: p99 is drawn as dots.
        mark: options.log ? { type: 'point', filled: true, size: 45, opacity: 1 } : 'bar',
        encoding: {
          y: {
            field: 'strategy',
            type: 'nominal',
            sort: strategies,
            title: null,
            axis: options.labels
              ? { labelLimit: 220, labelFontSize: 11 }
              : { labels: false, ticks: false },
          },
          yOffset: { field: 'mode', type: 'nominal', sort: modes },
          x: {
            field,
            type: 'quantitative',
            title: null,
            axis: { labelFontSize: 10, tickCount: 5 },
            scale: options.log ? { type: 'log' } : options.domain ? { domain: options.domain } : {},
          },
          color: {
            field: 'mode',
            type: 'nominal',
            sort: modes,
            title: 'enforcement',
            scale: { domain: modes, range: ['#7f7f7f', '#d62728', '#ff7f0e', '#1f77b4'] },
          },
        },
      },
      ...(options.target === undefined
        ? []
        : [
            {
              data: { values: [{ target: options.target }] },
              mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#222' },
              encoding: { x: { field: 'target', type: 'quantitative' as const } },
            },
          ]),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    config: {
      font: PLOT_FONT,
      view: { stroke: null },
      legend: {
        orient: 'bottom',
        labelFontSize: 11,
        titleFontSize: 11,
        columns: 2,
        labelLimit: 260,
      },
    },
    title: {
      text: 'Load test, real time: bursts below the limit, a 4 s outage',
      fontSize: 13,
      // vega measures text without a canvas, at 0.8 em a character: lines under 90 characters
      // keep the image at 800 px.
      subtitle: [...report.modes.map(summaryLine), ...footnote(report, info)],
      subtitleFontSize: 11,
      anchor: 'start',
    },
    vconcat: [
      {
        hconcat: [
          panel('Success (%)', 'success', { domain: [0, 100], labels: true }),
          panel('Upstream attempts / request (≤ 1.05)', 'attempts', { target: 1.05 }),
        ],
      },
      {
        hconcat: [
          panel('Upstream 429s, % of requests (≤ 0.1)', 'rate429', { labels: true }),
          panel('p99 of successes (ms, log)', 'p99', { log: true }),
        ],
      },
    ],
  };
}

function summaryLine(mode: ModeReport): string {
  const module = mode.strategies.find((s) => s.id === 'llm');
  const oracle = mode.strategies.find((s) => s.id === 'oracle');
  if (!module) return `${mode.label}: this module not measured`;
  const missed = mode.verdict?.checks.filter((c) => !c.met).map((c) => c.name) ?? [];
  return (
    `${ENFORCEMENT_MODES[mode.id].short}: ${formatPercent(module.successRate, 2)}, ` +
    `${module.attemptsPerRequest.toFixed(2)}/req, ${module.upstream429} × 429, p99 ` +
    `${formatMs(module.latencyMs?.p99)} (oracle ${formatMs(oracle?.latencyMs?.p99)}): ` +
    (missed.length === 0 ? 'met' : 'missed')
  );
}

function footnote(report: LoadReport, info: RunInfo): string[] {
  const s = report.scenario;
  return [
    `${s.requestsPerStrategy} requests per strategy, limit ${s.rpm}/min, ` +
      `${s.offeredAveragePerMinute.toFixed(0)}/min offered on average`,
    `Node ${info.node}, ${info.date.slice(0, 10)}, load average ${info.loadAverage ?? '?'}`,
  ];
}
