import * as fs from 'node:fs';

/**
 * Preloaded (`-r`, with `--expose-gc`) into a gateway by `stream-cost.ts`: on SIGUSR2 it runs a
 * full garbage collection and writes the process's `heapUsed` (bytes) to `HEAP_OUT`, so that
 * live heap, not garbage waiting for a collection, is what a reading sees.
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const out = process.env.HEAP_OUT;
  if (out) fs.writeFileSync(out, String(process.memoryUsage().heapUsed));
});
