/** The stream progress is written to: stdout in a run, anything with `write` in a test. */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A live progress line. On a terminal it is redrawn in place (`\r`, at most every 100 ms);
 * in CI logs, where `\r` piles up into one unreadable line, it prints a plain line per 10 %.
 */
export class Progress {
  private lastDrawAt = 0;
  private lastTenth = -1;
  private drawn = false;

  constructor(private readonly out: ProgressOutput = process.stdout) {}

  /** Reports `done` of `total` for the phase named `label`. */
  update(label: string, done: number, total: number): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const text = `${label}: ${done}/${total} (${Math.floor(ratio * 100)} %)`;
    if (this.out.isTTY) {
      const now = Date.now();
      if (done < total && now - this.lastDrawAt < 100) return;
      this.lastDrawAt = now;
      this.out.write(`\r\x1b[2K${text}`);
      this.drawn = true;
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.out.write(`${text}\n`);
  }

  /** Ends the current phase: the next update starts a fresh line and a fresh 10 % count. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
    this.lastTenth = -1;
    this.lastDrawAt = 0;
  }
}
