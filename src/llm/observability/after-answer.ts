/**
 * Work done after the answer, on one turn of the event loop for everything queued in this one:
 * a call's metric records (`metric-record.queue.ts`) and its events (`llm-event.recorder.ts`)
 * share one `setImmediate` instead of one each. Jobs run in the order they were queued; a job
 * queued while they run waits for the next turn, as its own `setImmediate` would. A job that
 * throws is raised on its own (as a throwing `setImmediate` callback is) and the others still run.
 *
 * @example
 * afterAnswer(handOnQueued); // once per turn, however many measurements were queued
 */
let jobs: (() => void)[] = [];
/** The list the next turn's jobs go into while this turn's run (swapped, not reallocated). */
let spare: (() => void)[] = [];

/** Runs `job` on the next turn, after the answer in hand has been written. */
export function afterAnswer(job: () => void): void {
  if (jobs.push(job) === 1) setImmediate(runJobs);
}

function runJobs(): void {
  const running = jobs;
  jobs = spare;
  for (let i = 0; i < running.length; i++) {
    try {
      running[i]!();
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
  running.length = 0;
  spare = running;
}
