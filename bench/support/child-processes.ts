import type { ChildProcess } from 'node:child_process';

/** Every child process a benchmark started and that has not exited yet. */
const running = new Set<ChildProcess>();
let hooked = false;

/**
 * Registers a child so it is stopped however the benchmark ends: normally (its owner stops it),
 * on an error, on Ctrl-C or on SIGTERM. A benchmark must never leave a simulator, a gateway or a
 * redis-server behind.
 */
export function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (hooked) return;
  hooked = true;
  // 'exit' handlers must be synchronous: kill() is, and SIGKILL cannot be ignored.
  process.once('exit', () => killAll('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll('SIGTERM');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Sends SIGTERM (then SIGKILL after `graceMs`) and resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function killAll(signal: NodeJS.Signals): void {
  for (const child of running) child.kill(signal);
}
