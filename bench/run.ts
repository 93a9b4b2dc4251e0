import * as path from 'node:path';
import { readBenchConfig } from './bench.config';
import { startBenchTarget } from './bench-target';
import { type CallPath, directAxiosPath, directFetchPath, llmClientPath } from './call-paths';
import { buildLatencyReport } from './latency.report';
import { runLatencyScenario } from './latency.scenario';
import { Progress } from './progress';
import { formatReportTable } from './report.table';
import { writeResults } from './results.writer';
import { collectRunInfo } from './run-info';
import { runThroughputScenario } from './throughput.scenario';

/**
 * `npm run bench`: the latency LlmClient adds to a call, measured against direct HTTP calls to
 * the same zero-latency simulator (in its own process) in one run. Bounded by BENCH_CALLS; talks to
 * loopback only; a missed target is reported, never an exit code (CI never fails on a number).
 */
async function main(): Promise<void> {
  const config = readBenchConfig(process.env, path.join(__dirname, 'results'));
  const info = collectRunInfo(config);
  const progress = new Progress();
  console.log(
    `LlmClient latency benchmark: Node ${info.node}, ${info.machine.cores} × ${info.machine.cpu}; ` +
      `${config.warmup} warm-up + ${config.calls} measured calls per path`,
  );
  const target = await startBenchTarget();
  const paths: CallPath[] = [
    directAxiosPath(target.sim.baseUrl),
    llmClientPath(target.llm),
    directFetchPath(target.sim.baseUrl),
  ];
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
    const report = buildLatencyReport(paths, samples, config.targetP99AddedUs, throughput);
    console.log(`\n${formatReportTable(report)}\n`);
    const written = await writeResults(config.outDir, report, info);
    console.log(`Results: ${written.map((file) => path.relative(process.cwd(), file)).join(', ')}`);
  } finally {
    for (const p of paths) p.close();
    await target.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
