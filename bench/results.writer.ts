import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
  const markdown = formatReportMarkdown(report, info);
  await writeFile(files.markdown, markdown);
  await writeFile(files.png, await renderLatencyPlot(report, info));
  const readme = `![LlmClient latency vs a direct HTTP call](results/latency.png)\n\n${markdown}`;
  return [...Object.values(files), ...(await spliceIntoBenchReadme('latency', readme, outDir))];
}

/** JSON replacer: three decimals; sub-nanosecond digits are noise and bloat diffs. */
export function roundFigures(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value)
    ? Math.round(value * 1_000) / 1_000
    : value;
}

/**
 * Puts a benchmark's markdown into bench/README.md between `<!-- name:begin -->` and
 * `<!-- name:end -->`, so the figures there are always the last run's, as measured. Only for a
 * run that wrote to bench/results itself (not `BENCH_OUT_DIR`); returns the path when it did.
 */
export async function spliceIntoBenchReadme(
  name: string,
  markdown: string,
  outDir: string,
): Promise<string[]> {
  if (path.resolve(outDir) !== path.resolve(__dirname, 'results')) return [];
  const readme = path.join(__dirname, 'README.md');
  const text = await readFile(readme, 'utf8');
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from === -1 || to < from) return [];
  const spliced = `${text.slice(0, from + begin.length)}\n\n${markdown.trim()}\n\n${text.slice(to)}`;
  // Formatted as `npm run format:check` expects it, with the repository's prettier settings.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(readme)) ?? {};
  await writeFile(readme, await prettier.format(spliced, { ...options, filepath: readme }));
  return [readme];
}
