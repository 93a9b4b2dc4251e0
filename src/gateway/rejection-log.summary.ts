import type { Logger } from '@nestjs/common';

/** How long repeated rejections of one kind are counted before a summary line. */
export const REJECTION_SUMMARY_INTERVAL_MS = 10_000;

/**
 * Logs rejections that can come by the thousand (an open circuit, a full bulkhead) as one line
 * per kind per interval: the first at once, then "N more ... in the last 10 s" when the interval
 * ends. An outage stays visible without flooding the log.
 *
 * @example
 * const summary = new RejectionLogSummary(logger);
 * summary.warn('circuit_open', 'POST /v1/chat/completions -> 503 circuit_open: ...');
 */
export class RejectionLogSummary {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs = REJECTION_SUMMARY_INTERVAL_MS,
  ) {}

  warn(kind: string, line: string): void {
    const count = this.counts.get(kind);
    if (count !== undefined) {
      this.counts.set(kind, count + 1);
      return;
    }
    this.logger.warn(line);
    this.counts.set(kind, 0);
    // Unref'd: a pending summary never keeps the process alive.
    setTimeout(() => this.flush(kind), this.intervalMs).unref();
  }

  private flush(kind: string): void {
    const count = this.counts.get(kind) ?? 0;
    this.counts.delete(kind);
    if (count > 0) {
      this.logger.warn(
        `${count} more ${kind} rejection(s) in the last ${this.intervalMs / 1000} s (not logged one by one)`,
      );
    }
  }
}
