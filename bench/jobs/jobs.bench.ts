import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { rabbitmqServerAvailable } from '../support/rabbitmq-server';
import type { Progress } from '../report/progress';
import { redisServerAvailable } from '../support/redis-server.process';
import { roundFigures } from '../report/results.files';
import { machineInfo, type RunInfo } from '../report/run-info';
import { readJobsBenchConfig } from './jobs.config';
import { formatJobsMarkdown } from './jobs.markdown';
import { renderJobsPlot } from './jobs.plot';
import { buildJobsReport } from './jobs.report';
import { runJobsScenario } from './jobs.scenario';

/**
 * Benchmark: the seed's case, offered load above the provider's limit through the synchronous
 * path and through durable jobs side by side, once more with a worker killed mid-run. Skipped
 * (with a note, not a failure) without rabbitmq-server or redis-server.
 */
export async function runJobsBench(
  outDir: string,
  info: RunInfo,
  progress: Progress,
): Promise<string[]> {
  if (!rabbitmqServerAvailable() || !redisServerAvailable()) {
    console.log(
      '\nJobs benchmark skipped: it needs rabbitmq-server and redis-server (apt-get install ' +
        'rabbitmq-server redis-server).',
    );
    return [];
  }
  const config = readJobsBenchConfig(process.env);
  console.log(
    `\nJobs: ${config.offeredRatio} × a limit of ${config.rpm} per minute for ` +
      `${config.offerSeconds} s, synchronous and jobs side by side, then until the jobs drain`,
  );
  const run = await runJobsScenario(config, progress);
  const report = buildJobsReport(config, run);
  console.log(`\n${report.verdict}\n`);
  await mkdir(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'jobs.json'),
    markdown: path.join(outDir, 'jobs.md'),
    png: path.join(outDir, 'jobs.png'),
  };
  await writeFile(
    files.json,
    `${JSON.stringify({ ...machineInfo(info), ...report }, roundFigures, 2)}\n`,
  );
  await writeFile(files.markdown, formatJobsMarkdown(report, info));
  await writeFile(files.png, await renderJobsPlot(report, info));
  return Object.values(files);
}
