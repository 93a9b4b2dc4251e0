import * as fs from 'node:fs';

/**
 * Signals a benchmark child with SIGUSR2 and reads the JSON it writes to `file` in answer (the
 * preloads `after-write.preload.ts` and `queue-split.proxy.ts` do so); waits up to 2 s for it.
 */
export async function readSignalledJson<T>(pid: number, file: string): Promise<T> {
  fs.rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  fs.rmSync(file, { force: true });
  return value;
}
