import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { renderJobsPlot } from '../jobs/jobs.plot';
import { renderGatewayPlot } from '../latency/gateway.plot';
import { renderLoadPlot } from '../load/load.plot';
import { renderOutagePlot } from '../outage/outage.plot';
import { renderReplicasPlot } from '../replicas/replicas.plot';
import type { RunInfo } from './run-info';

/**
 * Redraws the plots from the JSON results, without running anything (`BENCH_OUT_DIR` or
 * bench/results): `node -r @swc-node/register bench/report/replot.ts`. For work on a plot's looks.
 */
async function main(): Promise<void> {
  const dir = process.env.BENCH_OUT_DIR?.trim() || path.join(__dirname, '..', 'results');
  const plots = {
    load: renderLoadPlot,
    outage: renderOutagePlot,
    replicas: renderReplicasPlot,
    jobs: renderJobsPlot,
    // A list of runs, not a report with its info: the second argument is ignored.
    'gateway-latency': renderGatewayPlot,
  } as const;
  for (const [name, render] of Object.entries(plots)) {
    const file = path.join(dir, `${name}.json`);
    const json = await readFile(file, 'utf8').catch(() => undefined);
    if (json === undefined) continue;
    const data = JSON.parse(json) as RunInfo;
    // Each JSON is its report with the run's info merged in: both views read the same object.
    await writeFile(path.join(dir, `${name}.png`), await render(data as never, data));
    console.log(`Redrew ${name}.png`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
