// Preloaded into the soaked gateway (`node -r`): answers `soak:sample` over the IPC channel with
// the process's own figures, so the soak measures the gateway, not the load generator.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What one sample of the gateway process holds. */
export interface GatewaySample {
  type: 'soak:sample';
  /** Heap in use right after a full GC, in bytes. */
  heapUsed: number;
  rss: number;
  /** Active handles and requests (sockets, timers, servers), by `process.getActiveResourcesInfo()`. */
  handles: number;
  /** Event-loop delay since the previous sample. */
  eldP99Ms: number;
  eldMaxMs: number;
}

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

process.on('message', (message: unknown) => {
  if (message !== 'soak:sample') return;
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  const sample: GatewaySample = {
    type: 'soak:sample',
    heapUsed,
    rss,
    handles: process.getActiveResourcesInfo().length,
    eldP99Ms: delay.percentile(99) / 1e6,
    eldMaxMs: delay.max / 1e6,
  };
  delay.reset();
  process.send?.(sample);
});
