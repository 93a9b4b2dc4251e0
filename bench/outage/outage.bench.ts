import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { noRetryStrategy } from '../load/hand-rolled.strategy';
import { llmClientStrategy } from '../load/llm-client.strategy';
import { openAiSdkStrategy } from '../load/openai-sdk.strategy';
import type { Progress } from '../report/progress';
import { roundFigures, spliceIntoBenchReadme } from '../report/results.files';
import { loadAverage, machineInfo, type RunInfo } from '../report/run-info';
import { readOutageConfig } from './outage.config';
import { formatOutageMarkdown, formatOutageTable } from './outage.format';
import { renderOutagePlot } from './outage.plot';
import { buildOutageReport } from './outage.report';
import { runOutageScenario } from './outage.scenario';

/**
 * Benchmark 2: a minute of 503s in real time. This module with its defaults, next to the openai
 * SDK and no retry, each against its own simulator. Writes outage.json, outage.md and
 * outage.png into `outDir`; returns the paths written.
 */
export async function runOutageBench(
  outDir: string,
  runInfo: RunInfo,
  progress: Progress,
): Promise<string[]> {
  const info = { ...runInfo, date: new Date().toISOString(), loadAverage: loadAverage() };
  const config = readOutageConfig(process.env);
  const totalS = (config.leadMs + config.outage.durationMs + config.afterMs) / 1_000;
  console.log(
    `\nLong outage: ${config.outage.durationMs / 1_000} s of 503s within ${totalS} s, three ` +
      `strategies at once (load average ${info.loadAverage})`,
  );
  const runs = await runOutageScenario(
    config,
    [
      (url) => Promise.resolve(noRetryStrategy(url)),
      (url) => Promise.resolve(openAiSdkStrategy(url)),
      (url) => llmClientStrategy({ baseUrl: url, limits: { rpm: config.rpm } }),
    ],
    progress,
  );
  const report = buildOutageReport(config, runs);
  console.log(`\n${formatOutageTable(report)}\n(load average ${loadAverage()} at the end)\n`);
  await mkdir(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'outage.json'),
    markdown: path.join(outDir, 'outage.md'),
    png: path.join(outDir, 'outage.png'),
  };
  const json = { ...machineInfo(info), loadAverageAtEnd: loadAverage(), ...report };
  await writeFile(files.json, `${JSON.stringify(json, roundFigures, 2)}\n`);
  const markdown = formatOutageMarkdown(report, info);
  await writeFile(files.markdown, markdown);
  await writeFile(files.png, await renderOutagePlot(report, info));
  const readme = `![A minute of 503s: success and upstream requests per second](results/outage.png)\n\n${markdown}`;
  return [...Object.values(files), ...(await spliceIntoBenchReadme('outage', readme, outDir))];
}
