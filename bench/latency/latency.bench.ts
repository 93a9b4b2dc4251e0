import type { BenchConfig } from './latency.config';
import { type BenchTarget, startBenchTarget } from './bench-target';
import {
  type CallPath,
  directAxiosPath,
  directFetchPath,
  directHttpPath,
  llmClientPath,
} from './call-paths';
import { buildLatencyReport } from './latency.report';
import { runLatencyScenario } from './latency.scenario';
import type { Progress } from '../report/progress';
import {
  countRedisKeys,
  redisServerAvailable,
  startRedisServer,
} from '../support/redis-server.process';
import { formatReportTable } from './latency.table';
import { writeResults } from './latency.results';
import type { RunInfo } from '../report/run-info';
import { runThroughputScenario } from './throughput.scenario';

/**
 * Benchmark 3, the core one: the latency LlmClient adds to a call, measured against direct HTTP
 * calls to the same zero-latency simulator (in its own process) in one run, without a rate limiter
 * (the default) and with the in-memory and the Redis one. Returns the files written.
 */
export async function runLatencyBench(
  config: BenchConfig,
  info: RunInfo,
  progress: Progress,
): Promise<string[]> {
  console.log(
    `LlmClient latency benchmark: Node ${info.node}, ${info.machine.cores} × ${info.machine.cpu}; ` +
      `${config.warmup} warm-up + ${config.calls} measured calls per path`,
  );
  const redis = redisServerAvailable() ? await startRedisServer() : undefined;
  let target: BenchTarget;
  try {
    target = await startBenchTarget(redis?.url);
  } catch (error) {
    await redis?.stop();
    throw error;
  }
  const paths: CallPath[] = [directHttpPath(target.sim.baseUrl), llmClientPath(target.llm)];
  if (target.llmMemory) {
    paths.push(llmClientPath(target.llmMemory, 'llm-memory', 'LlmClient + in-memory limiter'));
  }
  if (target.llmRedis) {
    paths.push(llmClientPath(target.llmRedis, 'llm-redis', 'LlmClient + Redis limiter'));
  }
  paths.push(directAxiosPath(target.sim.baseUrl), directFetchPath(target.sim.baseUrl));
  const pending = !target.llmMemory
    ? 'Limiter paths pending the limiter: the module has no rate limiter yet'
    : !target.llmRedis
      ? 'Redis limiter path skipped: redis-server is not installed'
      : undefined;
  try {
    const samples = await runLatencyScenario(paths, config, progress);
    const throughput =
      config.concurrency > 0
        ? {
            concurrency: config.concurrency,
            results: await runThroughputScenario(
              paths,
              { concurrency: config.concurrency, calls: config.throughputCalls },
              progress,
            ),
          }
        : undefined;
    // A Redis limiter that silently fell back to memory would be measured as the wrong thing.
    const unused =
      redis && target.llmRedis && (await countRedisKeys(redis.url)) === 0
        ? 'The Redis limiter path left no keys in Redis: it ran on its in-memory fallback'
        : undefined;
    const report = buildLatencyReport(
      paths,
      samples,
      config.targetP99AddedUs,
      throughput,
      pending ?? unused,
    );
    console.log(`\n${formatReportTable(report)}\n`);
    return await writeResults(config.outDir, report, info);
  } finally {
    for (const p of paths) p.close();
    await target.close();
    await redis?.stop();
  }
}
