import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Progress } from '../report/progress';
import { roundFigures, spliceIntoBenchReadme } from '../report/results.files';
import { loadAverage, machineInfo, type RunInfo } from '../report/run-info';
import { fixedIntervalStrategy, jitterStrategy, noRetryStrategy } from './hand-rolled.strategy';
import { llmClientStrategy } from './llm-client.strategy';
import { readLoadConfig } from './load.config';
import { formatLoadMarkdown } from './load.markdown';
import { renderLoadPlot } from './load.plot';
import { buildLoadReport, type LoadReport } from './load.report';
import { runLoadScenario, type StrategyFactory, type StrategyRun } from './load.scenario';
import { buildSchedule } from './load.schedule';
import { formatLoadTable } from './load.table';
import { openAiSdkStrategy } from './openai-sdk.strategy';
import { pacingOracleStrategy } from './pacing-oracle.strategy';

/**
 * Benchmark 1, the seed's load test in real time: bursty load below the limit with a 4 s outage
 * of 503s, against each enforcement mode in turn; under each, seven ways of calling the upstream
 * run side by side, each against its own simulator. Prints the tables and writes load.json,
 * load.md and load.png into `outDir`; returns the paths written.
 */
export async function runLoadBench(
  outDir: string,
  runInfo: RunInfo,
  progress: Progress,
): Promise<string[]> {
  const info = { ...runInfo, date: new Date().toISOString(), loadAverage: loadAverage() };
  const config = readLoadConfig(process.env);
  const arrivals = buildSchedule(config);
  console.log(
    `\nLoad test: ${arrivals.length} requests per strategy over ${config.durationMs / 1_000} s ` +
      `in real time, seven strategies at once, under ${config.modes.length} enforcement modes ` +
      `in turn (load average ${info.loadAverage})`,
  );
  const factories: StrategyFactory[] = [
    { id: 'no-retry', create: (url) => Promise.resolve(noRetryStrategy(url)) },
    { id: 'fixed', create: (url) => Promise.resolve(fixedIntervalStrategy(url, config)) },
    { id: 'jitter', create: (url) => Promise.resolve(jitterStrategy(url, config)) },
    { id: 'openai-sdk', create: (url) => Promise.resolve(openAiSdkStrategy(url)) },
    { id: 'oracle', create: (url) => Promise.resolve(pacingOracleStrategy(url, config.rpm)) },
    {
      id: 'llm',
      create: (url) => llmClientStrategy({ baseUrl: url, limits: { rpm: config.rpm } }),
    },
    { id: 'llm-unbudgeted', create: (url) => llmClientStrategy({ baseUrl: url }) },
  ];
  const modes: Array<{
    id: (typeof config.modes)[number]['id'];
    label: string;
    runs: StrategyRun[];
  }> = [];
  for (const mode of config.modes) {
    const runs = await runLoadScenario(config, mode, arrivals, factories, progress);
    modes.push({ id: mode.id, label: mode.label, runs });
  }
  const report = buildLoadReport(config, arrivals, modes);
  console.log(`\n${formatLoadTable(report)}\n(load average ${loadAverage()} at the end)\n`);
  return writeLoadResults(outDir, report, info);
}

async function writeLoadResults(outDir: string, report: LoadReport, info: RunInfo) {
  await mkdir(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'load.json'),
    markdown: path.join(outDir, 'load.md'),
    png: path.join(outDir, 'load.png'),
  };
  const json = { ...machineInfo(info), loadAverageAtEnd: loadAverage(), ...report };
  await writeFile(files.json, `${JSON.stringify(json, roundFigures, 2)}\n`);
  const markdown = formatLoadMarkdown(report, info);
  await writeFile(files.markdown, markdown);
  await writeFile(files.png, await renderLoadPlot(report, info));
  const readme = `![Load test: success, attempts, 429s and p99 per strategy and mode](results/load.png)\n\n${markdown}`;
  return [...Object.values(files), ...(await spliceIntoBenchReadme('load', readme, outDir))];
}
