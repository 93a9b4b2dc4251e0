import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { LatencyReport } from './latency.report';
import { renderLatencyPlot } from './latency.plot';
import { formatReportMarkdown } from './report.markdown';
import type { RunInfo } from './run-info';

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
  await writeFile(files.markdown, formatReportMarkdown(report, info));
  await writeFile(files.png, await renderLatencyPlot(report, info));
  return Object.values(files);
}

/** JSON replacer: three decimals; sub-nanosecond digits are noise and bloat diffs. */
export function roundFigures(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value)
    ? Math.round(value * 1_000) / 1_000
    : value;
}
