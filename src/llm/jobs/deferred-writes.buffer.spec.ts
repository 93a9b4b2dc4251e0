import { DeferredWritesBuffer, MAX_DEFERRED_WRITES } from './deferred-writes.buffer';

describe('DeferredWritesBuffer', () => {
  it('replays kept writes in order and keeps those that fail again', async () => {
    const reports: string[] = [];
    const buffer = new DeferredWritesBuffer((outcome) => reports.push(outcome));
    const done: number[] = [];
    let failing = true;
    buffer.keep(() => Promise.resolve(done.push(1)));
    buffer.keep(() =>
      failing ? Promise.reject(new Error('down')) : Promise.resolve(done.push(2)),
    );

    expect(await buffer.flush()).toBe(1);
    expect(buffer.size).toBe(1);
    failing = false;
    expect(await buffer.flush()).toBe(1);
    expect(done).toEqual([1, 2]);
    expect(reports).toEqual(['deferred', 'deferred']);
  });

  it('is bounded: a write past the limit is dropped and counted', () => {
    const reports: string[] = [];
    const buffer = new DeferredWritesBuffer((outcome) => reports.push(outcome));
    for (let i = 0; i < MAX_DEFERRED_WRITES; i++) buffer.keep(() => Promise.resolve());

    expect(buffer.keep(() => Promise.resolve())).toBe(false);
    expect(buffer.size).toBe(MAX_DEFERRED_WRITES);
    expect(reports.at(-1)).toBe('dropped');
  });
});
