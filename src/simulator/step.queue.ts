import type { SimStep } from './simulator.types';

interface QueuedStep {
  step: SimStep;
  remaining: number;
}

/**
 * The scripted answers, first in first out; a step with `repeat: n` answers n requests before
 * the next step's turn.
 *
 * @example
 * queue.push([{ type: 'error', status: 503, repeat: 2 }, { type: 'ok' }]);
 * queue.take(); // 503
 * queue.take(); // 503
 * queue.take(); // ok
 * queue.take(); // undefined: normal behaviour again
 */
export class StepQueue {
  private readonly queued: QueuedStep[] = [];

  /** Appends steps after those already queued. */
  push(steps: readonly SimStep[]): void {
    for (const step of steps) this.queued.push({ step, remaining: step.repeat ?? 1 });
  }

  /** The step that answers the next request, or `undefined` when the script is exhausted. */
  take(): SimStep | undefined {
    const head = this.queued[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queued.shift();
    return head.step;
  }

  /** Requests the queued steps will still answer, repeats included. */
  get size(): number {
    return this.queued.reduce((sum, entry) => sum + entry.remaining, 0);
  }

  clear(): void {
    this.queued.length = 0;
  }
}
