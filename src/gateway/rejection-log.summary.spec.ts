import { setTimeout as sleep } from 'node:timers/promises';
import { RejectionLogSummary } from './rejection-log.summary';

describe('RejectionLogSummary', () => {
  it('logs the first rejection of a kind at once and the rest as one count per interval', async () => {
    const lines: string[] = [];
    const summary = new RejectionLogSummary({ warn: (line: string) => lines.push(line) }, 50);
    for (let i = 0; i < 500; i++) summary.warn('circuit_open', `rejected ${i}`);
    summary.warn('bulkhead_full', 'full 0');
    expect(lines).toEqual(['rejected 0', 'full 0']);
    await sleep(120);
    expect(lines).toEqual([
      'rejected 0',
      'full 0',
      '499 more circuit_open rejection(s) in the last 0.05 s (not logged one by one)',
    ]);
    // A new interval starts with the next rejection, logged at once again.
    summary.warn('circuit_open', 'rejected again');
    expect(lines.at(-1)).toBe('rejected again');
  });
});
