import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Progress } from '../progress';
import { roundFigures } from '../results.writer';
import { machineInfo, type RunInfo } from '../run-info';
import { fixedIntervalStrategy, jitterStrategy, noRetryStrategy } from './hand-rolled.strategy';
import { llmClientStrategy } from './llm-client.strategy';
import { readLoadConfig } from './load.config';
import { buildLoadReport, type LoadReport } from './load.report';
import { runLoadScenario, type StrategyFactory } from './load.scenario';
import { buildSchedule } from './load.schedule';
import { formatLoadTable } from './load.table';
import { formatLoadMarkdown } from './load.markdown';
import { renderLoadPlot } from './load.plot';
import { openAiSdkStrategy } from './openai-sdk.strategy';

/**
 * Benchmark 1, the seed's load test: bursty load against a rate-limited simulator with a 503
 * outage, six ways of calling it side by side (two of them this module, with and without waiting
 * for an open circuit). Prints the table and writes load.json (and the
 * markdown and plot) into `outDir`; returns the paths written.
 */
export async function runLoadBench(
  outDir: string,
  info: RunInfo,
  progress: Progress,
): Promise<string[]> {
  const config = readLoadConfig(process.env);
  const arrivals = buildSchedule(config);
  console.log(
    `\nLoad test: ${arrivals.length} requests per strategy over ` +
      `${((config.durationS * config.minuteMs) / 60_000).toFixed(0)} s, six strategies at once`,
  );
  const factories: StrategyFactory[] = [
    { id: 'no-retry', create: (url) => Promise.resolve(noRetryStrategy(url, config)) },
    { id: 'fixed', create: (url) => Promise.resolve(fixedIntervalStrategy(url, config)) },
    { id: 'jitter', create: (url) => Promise.resolve(jitterStrategy(url, config)) },
    { id: 'openai-sdk', create: (url) => Promise.resolve(openAiSdkStrategy(url)) },
    ...([false, true] as const).map((waitForCircuit): StrategyFactory => ({
      id: waitForCircuit ? 'llm-wait' : 'llm',
      create: (url) =>
        llmClientStrategy({
          baseUrl: url,
          minuteMs: config.minuteMs,
          limits: { rpm: config.rpm },
          waitForCircuit,
        }),
    })),
  ];
  const runs = await runLoadScenario(config, arrivals, factories, progress);
  const report = buildLoadReport(config, arrivals, runs);
  console.log(`\n${formatLoadTable(report)}\n`);
  return writeLoadResults(outDir, report, info);
}

async function writeLoadResults(outDir: string, report: LoadReport, info: RunInfo) {
  await mkdir(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'load.json'),
    markdown: path.join(outDir, 'load.md'),
    png: path.join(outDir, 'load.png'),
  };
  const json = { ...machineInfo(info), ...report };
  await writeFile(files.json, `${JSON.stringify(json, roundFigures, 2)}\n`);
  await writeFile(files.markdown, formatLoadMarkdown(report, info));
  await writeFile(files.png, await renderLoadPlot(report, info));
  return Object.values(files);
}
