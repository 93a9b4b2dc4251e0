import type { RunInfo } from '../report/run-info';
import type { LoadReport } from './load.report';
import { MODULE_STRATEGY_IDS } from './load-strategy';
import { describeScenario, formatFailures, formatMs, formatPercent } from './load.table';

/** The module against the targets, one row per mode: the README's table. */
export function formatLoadSummaryMarkdown(report: LoadReport): string {
  const rows = report.modes.map((mode) => {
    const module = mode.strategies.find((s) => s.id === 'llm');
    const oracle = mode.strategies.find((s) => s.id === 'oracle');
    if (!module) return `| ${mode.label} | - | - | - | - | - | not measured |`;
    const verdict = mode.verdict?.met
      ? 'met'
      : `missed: ${mode.verdict?.checks
          .filter((c) => !c.met)
          .map((c) => c.name)
          .join(', ')}`;
    return (
      `| ${mode.label} | ${formatPercent(module.successRate, 2)} | ` +
      `${module.attemptsPerRequest.toFixed(3)} | ${module.upstream429} | ` +
      `${formatMs(module.latencyMs?.p99)} | ${formatMs(oracle?.latencyMs?.p99)} | ${verdict} |`
    );
  });
  return [
    '| enforcement | success | attempts / request | upstream 429s | p99 (ms) | oracle p99 (ms) | target |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}

/** Every strategy under every mode, as a markdown section bench/README.md takes as it is. */
export function formatLoadMarkdown(report: LoadReport, info: RunInfo): string {
  const lines = [
    '"This module, defaults" against the targets (success ≥ 99.9 %, ≤ 1.05 upstream attempts per',
    'request, upstream 429s ≤ 0.1 % of requests, p99 no worse than the pacing oracle):',
    '',
    formatLoadSummaryMarkdown(report),
    '',
    'Every strategy:',
    '',
    '| enforcement | strategy | success | attempts / request | upstream 429s | upstream 503s | p50 (ms) | p95 (ms) | p99 (ms) | failures |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...report.modes.flatMap((mode) =>
      mode.strategies.map((f) => {
        const l = f.latencyMs;
        const name = MODULE_STRATEGY_IDS.includes(f.id) ? `**${f.label}**` : f.label;
        return (
          `| ${mode.label} | ${name} | ${formatPercent(f.successRate, 2)} | ` +
          `${f.attemptsPerRequest.toFixed(3)} | ${f.upstream429} | ${f.upstream503} | ` +
          `${formatMs(l?.p50)} | ${formatMs(l?.p95)} | ${formatMs(l?.p99)} | ` +
          `${formatFailures(f.failures)} |`
        );
      }),
    ),
    '',
    ...(report.modes[0]?.strategies ?? []).map((f) => `- ${f.label}: ${f.description}.`),
    '',
    `${describeScenario(report)}. Each mode's strategies run at once, each against its own ` +
      `simulator process; the modes run one after the other. Node ${info.node} on ` +
      `${info.machine.cpu} (${info.machine.cores} cores), ${info.date.slice(0, 16)}Z, load ` +
      `average ${info.loadAverage ?? '?'} at the start. Reproduce with \`npm run bench -- load\`.`,
  ];
  return `${lines.join('\n')}\n`;
}
