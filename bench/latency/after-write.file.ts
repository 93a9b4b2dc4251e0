import * as os from 'node:os';
import * as path from 'node:path';

/** Where `after-write.preload.ts` in process `pid` writes its split, read by `after-write.ts`. */
export function afterWriteFile(pid: number): string {
  return path.join(os.tmpdir(), `after-write-${pid}.json`);
}
