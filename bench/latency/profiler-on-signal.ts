import * as fs from 'node:fs';
import * as inspector from 'node:inspector';

/**
 * Preloaded (`-r`) into a profiled gateway by `profile-gateway.ts`: the first SIGUSR2 starts
 * V8's CPU profiler (100 µs sampling), the second stops it, writes the profile to PROFILE_OUT
 * and ends the process. Start-up (module loading, compilation) stays out of the profile.
 */
const session = new inspector.Session();
session.connect();
let started = false;
process.on('SIGUSR2', () => {
  if (!started) {
    started = true;
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 100 }, () =>
        session.post('Profiler.start'),
      ),
    );
    return;
  }
  session.post('Profiler.stop', (error, result) => {
    const out = process.env.PROFILE_OUT;
    if (!error && out) fs.writeFileSync(out, JSON.stringify(result.profile));
    process.exit(0);
  });
});
