import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Progress } from '../report/progress';
import { redisServerAvailable } from '../support/redis-server.process';
import { roundFigures, spliceIntoBenchReadme } from '../report/results.files';
import { loadAverage, machineInfo, type RunInfo } from '../report/run-info';
import { readReplicasConfig } from './replicas.config';
import { formatReplicasMarkdown } from './replicas.markdown';
import { renderReplicasPlot } from './replicas.plot';
import { buildReplicasReport, type ReplicasReport } from './replicas.report';
import { runReplicasScenario } from './replicas.scenario';
import { formatReplicasTable } from './replicas.table';

/**
 * Benchmark 3: gateway replicas sharing one Redis against one simulator limit, with Redis killed
 * midway and brought back. Skipped (with a note, not a failure) when redis-server is missing.
 */
export async function runReplicasBench(
  outDir: string,
  runInfo: RunInfo,
  progress: Progress,
): Promise<string[]> {
  if (!redisServerAvailable()) {
    console.log(
      '\nReplicas benchmark skipped: redis-server is not installed (apt-get install redis-server, ' +
        'or set REDIS_SERVER_BIN).',
    );
    return [];
  }
  const info = { ...runInfo, date: new Date().toISOString(), loadAverage: loadAverage() };
  const config = readReplicasConfig(process.env);
  const totalS = (3 * config.phaseMs) / 1_000;
  console.log(
    `\nReplicas: ${config.replicas} gateways, one Redis, one limit, no replica count; ` +
      `${totalS.toFixed(0)} s in three phases (Redis up, killed, back); load average ${info.loadAverage}`,
  );
  const run = await runReplicasScenario(config, progress);
  const limiterActive = run.metrics.some((text) => text.includes('llm_limiter_'));
  const limiter = limiterActive
    ? `LLM_RPM=${config.rpm} and REDIS_URL, nothing else`
    : 'pending the limiter: the gateways ran without a rate limiter';
  const report = buildReplicasReport(config, run, limiter);
  console.log(`\n${formatReplicasTable(report)}\n`);
  return writeReplicasResults(outDir, report, info);
}

async function writeReplicasResults(outDir: string, report: ReplicasReport, info: RunInfo) {
  await mkdir(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'replicas.json'),
    markdown: path.join(outDir, 'replicas.md'),
    png: path.join(outDir, 'replicas.png'),
  };
  const json = { ...machineInfo(info), loadAverageAtEnd: loadAverage(), ...report };
  await writeFile(files.json, `${JSON.stringify(json, roundFigures, 2)}\n`);
  const markdown = formatReplicasMarkdown(report, info);
  await writeFile(files.markdown, markdown);
  await writeFile(files.png, await renderReplicasPlot(report, info));
  const readme = `![Replicas: requests reaching the simulator per second](results/replicas.png)\n\n${markdown}`;
  return [...Object.values(files), ...(await spliceIntoBenchReadme('replicas', readme, outDir))];
}
