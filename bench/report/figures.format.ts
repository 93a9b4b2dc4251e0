/** Microseconds with one decimal: `182.4`. */
export function formatUs(us: number): string {
  return us.toFixed(1);
}

/** A difference in microseconds with its sign: `+35.2`, `-1.0`. */
export function formatSignedUs(us: number): string {
  return `${us >= 0 ? '+' : ''}${us.toFixed(1)}`;
}

/** A ratio such as `1.19×`. */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** Whole calls per second with thousands separators: `5,210`. */
export function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

/** The verdict line the issue asks for; a miss is reported, never thrown. */
export function formatVerdict(addedP99Us: number, targetUs: number, met: boolean): string {
  const target = `${targetUs / 1_000} ms`;
  const added = `${addedP99Us >= 0 ? '+' : ''}${(addedP99Us / 1_000).toFixed(3)} ms`;
  return `target p99 added < ${target}: ${met ? 'met' : 'missed'} (p99 added ${added})`;
}

/** Pads cells into aligned columns: the first left-aligned, the rest right-aligned. */
export function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
