import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { LatencyReport } from './latency.report';
import { renderLatencyPlot } from './latency.plot';
import { formatReportMarkdown } from './latency.markdown';
import { roundFigures, spliceIntoBenchReadme } from '../report/results.files';
import type { RunInfo } from '../report/run-info';

/** Writes latency.json, latency.md and latency.png into `outDir`; returns the paths written. */
export async function writeResults(
  outDir: string,
  report: LatencyReport,
  info: RunInfo,
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'latency.json'),
    markdown: path.join(outDir, 'latency.md'),
    png: path.join(outDir, 'latency.png'),
  };
  await writeFile(files.json, `${JSON.stringify({ ...info, ...report }, roundFigures, 2)}\n`);
  const markdown = formatReportMarkdown(report, info);
  await writeFile(files.markdown, markdown);
  await writeFile(files.png, await renderLatencyPlot(report, info));
  const readme = `![LlmClient latency vs a direct HTTP call](results/latency.png)\n\n${markdown}`;
  return [...Object.values(files), ...(await spliceIntoBenchReadme('latency', readme, outDir))];
}
