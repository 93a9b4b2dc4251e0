import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

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
  if (path.resolve(outDir) !== path.resolve(__dirname, '..', 'results')) return [];
  const readme = path.join(__dirname, '..', 'README.md');
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
