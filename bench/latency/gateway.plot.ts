import type { TopLevelSpec } from 'vega-lite';
import { PLOT_FONT as FONT, renderPng } from '../report/plot.render';
import { verdicts } from './gateway.report';
import type { GatewayRun } from './gateway.scenario';

/**
 * The gateway comparison as a PNG: added latency (p50, p99) over direct per path and run, and
 * throughput at 64 in flight relative to direct, for every run and Node version.
 */
export function renderGatewayPlot(runs: readonly GatewayRun[]): Promise<Buffer> {
  return renderPng(plotSpec(runs));
}

function plotSpec(runs: readonly GatewayRun[]): TopLevelSpec {
  const rows = runs.flatMap((run, i) =>
    verdicts(run).flatMap((v) => [
      {
        run: `${i + 1} · Node ${run.node}`,
        path: v.label,
        stat: 'added p50',
        ms: v.addedP50Us / 1e3,
      },
      {
        run: `${i + 1} · Node ${run.node}`,
        path: v.label,
        stat: 'added p99',
        ms: v.addedP99Us / 1e3,
      },
    ]),
  );
  const throughput = runs.flatMap((run, i) =>
    verdicts(run).map((v) => ({
      run: `${i + 1} · Node ${run.node}`,
      path: v.label,
      ratio: Math.round(v.throughputVsDirect * 1_000) / 1_000,
    })),
  );
  const order = [...new Set(rows.map((r) => r.path))];
  const color = { field: 'path', type: 'nominal', sort: order, title: null } as const;
  const loads = runs.map((r, i) => `run ${i + 1}: ${r.loadBefore.split(',')[0]}`).join(', ');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    config: { font: FONT, legend: { orient: 'bottom', labelLimit: 300 }, view: { stroke: null } },
    title: {
      text: 'Gateway overhead: bare pass-through (the floor), this gateway, Portkey’s gateway',
      subtitle: [
        'Added latency over a direct call (sequential, interleaved, upstream answering at once); ' +
          'throughput at 64 in flight against a 50 ms upstream, relative to direct',
        `Load average (1 min) at each run's start on 2 shared cores: ${loads}`,
      ],
      anchor: 'start',
    },
    vconcat: [
      {
        hconcat: (['added p50', 'added p99'] as const).map((stat) => ({
          title: `${stat} over direct (ms)`,
          width: 440,
          height: 220,
          data: { values: rows.filter((r) => r.stat === stat) },
          encoding: {
            x: { field: 'run', type: 'nominal', title: null, axis: { labelAngle: 0 } },
            xOffset: { field: 'path', type: 'nominal', sort: order },
            y: { field: 'ms', type: 'quantitative', title: 'ms' },
            color,
          },
          layer: [
            { mark: 'bar' },
            {
              mark: { type: 'text', dy: -6, fontSize: 8 },
              encoding: { text: { field: 'ms', type: 'quantitative', format: '.2f' } },
            },
          ],
        })),
      },
      {
        title: 'Throughput at 64 in flight ÷ direct (dashed: the 0.95 target)',
        width: 900,
        height: 160,
        layer: [
          {
            data: { values: throughput },
            encoding: {
              x: { field: 'run', type: 'nominal', title: null, axis: { labelAngle: 0 } },
              xOffset: { field: 'path', type: 'nominal', sort: order },
              y: {
                field: 'ratio',
                type: 'quantitative',
                title: '× direct',
                scale: { domain: [0, 1.1] },
              },
              color,
            },
            layer: [
              { mark: 'bar' },
              {
                mark: { type: 'text', dy: -6, fontSize: 8 },
                encoding: { text: { field: 'ratio', type: 'quantitative', format: '.2f' } },
              },
            ],
          },
          {
            data: { values: [{ target: 0.95 }] },
            mark: { type: 'rule', strokeDash: [4, 4], color: '#444' },
            encoding: { y: { field: 'target', type: 'quantitative' } },
          },
        ],
      },
    ],
  };
}
