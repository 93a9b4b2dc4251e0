import { afterAnswer } from './after-answer';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('afterAnswer', () => {
  it('runs the jobs queued in one turn on the next, in order, with one setImmediate', async () => {
    const ran: string[] = [];
    const immediates = jest.spyOn(global, 'setImmediate');
    try {
      afterAnswer(() => ran.push('metrics'));
      afterAnswer(() => ran.push('events'));
      await Promise.resolve();
      expect(ran).toEqual([]);
      expect(immediates).toHaveBeenCalledTimes(1);
    } finally {
      immediates.mockRestore();
    }
    await nextTurn();
    expect(ran).toEqual(['metrics', 'events']);
  });

  it('runs a job queued by a job on the turn after, and the others despite one that throws', async () => {
    const ran: string[] = [];
    // What the jobs' turn hands to process.nextTick (a throwing job's error), held to be checked
    // here rather than raised in the test runner.
    const ticks: (() => void)[] = [];
    let spy: jest.SpyInstance | undefined;
    setImmediate(() => {
      spy = jest.spyOn(process, 'nextTick').mockImplementation(((callback: () => void) => {
        ticks.push(callback);
      }) as typeof process.nextTick);
    });
    afterAnswer(() => {
      ran.push('first');
      afterAnswer(() => ran.push('queued by first'));
    });
    afterAnswer(() => {
      throw new Error('job failed');
    });
    afterAnswer(() => ran.push('third'));
    setImmediate(() => spy?.mockRestore());
    await nextTurn();
    expect(ran).toEqual(['first', 'third']);
    const raised = ticks.map((tick) => {
      try {
        tick();
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(raised).toContain('job failed');
    await nextTurn();
    expect(ran).toEqual(['first', 'third', 'queued by first']);
  });
});
