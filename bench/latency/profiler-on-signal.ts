import * as fs from 'node:fs';
import * as inspector from 'node:inspector';

/**
 * Preloaded (`-r`) into a profiled gateway by `profile-gateway.ts`: the first SIGUSR2 starts
 * V8's CPU profiler (100 µs sampling) and its sampling heap profiler (allocations), the second
 * stops both, writes `PROFILE_OUT` (`.cpuprofile`) and `PROFILE_OUT.heapprofile`, and ends the
 * process. Start-up (module loading, compilation) stays out of the profile.
 */
const session = new inspector.Session();
session.connect();
let started = false;
process.on('SIGUSR2', () => {
  if (!started) {
    started = true;
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 100 }, () =>
        session.post('Profiler.start', () =>
          session.post('HeapProfiler.startSampling', { samplingInterval: 4096 }),
        ),
      ),
    );
    return;
  }
  const out = process.env.PROFILE_OUT;
  session.post('HeapProfiler.stopSampling', (heapError, heap) => {
    if (!heapError && out) fs.writeFileSync(`${out}.heapprofile`, JSON.stringify(heap.profile));
    session.post('Profiler.stop', (error, result) => {
      if (!error && out) fs.writeFileSync(out, JSON.stringify(result.profile));
      process.exit(0);
    });
  });
});
