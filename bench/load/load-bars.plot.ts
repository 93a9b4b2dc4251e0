import type { PlotPanel } from '../plot.render';
import type { LoadReport } from './load.report';
import { formatPercent } from './load.table';

const STATS = ['p50', 'p95', 'p99'] as const;

function axes(order: string[]) {
  return {
    y: { field: 'strategy', type: 'nominal', sort: order, title: null, axis: { labelLimit: 260 } },
    color: { field: 'strategy', type: 'nominal', sort: order, legend: null },
  } as const;
}

/** Success rate per strategy, against the module's target. */
export function successPanel(report: LoadReport, order: string[]): PlotPanel {
  const values = report.strategies.map((f) => ({
    strategy: f.label,
    success: f.successRate * 100,
    text: formatPercent(f.successRate, 2),
  }));
  return {
    title: `Success (%), target ≥ ${report.target.successRate * 100} %`,
    width: 220,
    height: 150,
    data: { values },
    encoding: axes(order),
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'success', type: 'quantitative', title: null, scale: { domain: [0, 100] } },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
        encoding: { x: { field: 'success', type: 'quantitative' }, text: { field: 'text' } },
      },
    ],
  };
}

/** Upstream attempts per request, with the target as a dashed rule. */
export function attemptsPanel(report: LoadReport, order: string[]): PlotPanel {
  const values = report.strategies.map((f) => ({
    strategy: f.label,
    attempts: f.attemptsPerRequest,
    text: f.attemptsPerRequest.toFixed(2),
  }));
  return {
    title: `Upstream attempts per request, target ≤ ${report.target.attemptsPerRequest}`,
    width: 220,
    height: 150,
    layer: [
      {
        data: { values },
        encoding: axes(order),
        layer: [
          {
            mark: 'bar',
            encoding: { x: { field: 'attempts', type: 'quantitative', title: null } },
          },
          {
            mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
            encoding: { x: { field: 'attempts', type: 'quantitative' }, text: { field: 'text' } },
          },
        ],
      },
      {
        data: { values: [{ target: report.target.attemptsPerRequest }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#444' },
        encoding: { x: { field: 'target', type: 'quantitative' } },
      },
    ],
  };
}

/** p50, p95 and p99 of successful requests on a log axis, one row per strategy. */
export function latencyPanel(report: LoadReport, order: string[]): PlotPanel {
  const values = report.strategies.flatMap((f) =>
    STATS.map((stat) => ({
      strategy: f.label,
      stat,
      ms: Math.max(1, Math.round(f.latencyMs?.[stat] ?? 0)),
    })),
  );
  const x = { field: 'ms', type: 'quantitative', title: null, scale: { type: 'log' } } as const;
  return {
    title: 'Latency of successes (ms, log): p50 ● p95 ◆ p99 ▲',
    width: 220,
    height: 150,
    data: { values },
    encoding: axes(order),
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { x: { ...x, aggregate: 'min' }, x2: { field: 'ms', aggregate: 'max' } },
      },
      {
        mark: { type: 'point', filled: true, size: 60, opacity: 1 },
        encoding: {
          x,
          shape: {
            field: 'stat',
            type: 'nominal',
            sort: [...STATS],
            scale: { range: ['circle', 'diamond', 'triangle-up'] },
            legend: null,
          },
        },
      },
    ],
  };
}
