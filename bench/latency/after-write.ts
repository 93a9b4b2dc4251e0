import * as path from 'node:path';
import { afterWriteFile } from './after-write.file';
import { httpPath, type HttpPath } from './http-paths';
import { readSignalledJson } from './signalled-file';
import { startBareProxy, startGateway, startSimulator, type ServerProcess } from './servers';

/**
 * How much of a proxy's work per call comes after its answer is written, for sequential calls:
 * `node -r @swc-node/register bench/latency/after-write.ts [blocks] [calls per block]`. The floor
 * and this gateway run side by side with `after-write.preload.ts`, in alternating blocks of calls;
 * each prints its event loop's active time per call before the answer's `end()` (from the
 * request's arrival, the upstream's wait left out) and after it (to the next request's arrival).
 * Work after the answer runs, under load, in the middle of a burst of answers: it delays the next
 * ones (bench/README.md §5, stop 27's placements). GATEWAY_* / OTEL_* / LLM_* variables reach the
 * gateway.
 */
interface Split {
  calls: number;
  workUs: number;
  afterUs: number;
}

const PRELOAD = ['-r', path.join(__dirname, 'after-write.preload.ts')];

function readSplit(server: ServerProcess): Promise<Split> {
  return readSignalledJson<Split>(server.pid, afterWriteFile(server.pid));
}

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 6);
  const perBlock = Number(process.argv[3] ?? 500);
  const passed = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(GATEWAY_|OTEL_|LLM_)/.test(k)),
  );
  const sim = await startSimulator();
  const servers: { name: string; server: ServerProcess; client?: HttpPath }[] = [];
  try {
    const floor = await startBareProxy(`${sim.origin}/v1`, { busyUs: 0 }, PRELOAD);
    servers.push({ name: 'bare pass-through', server: floor });
    const gateway = await startGateway(`${sim.origin}/v1`, passed, PRELOAD);
    servers.push({ name: 'this gateway', server: gateway });
    for (const s of servers) {
      s.client = httpPath('gateway', s.name, `${s.server.origin}/v1/chat/completions`);
      for (let i = 0; i < 300; i++) await s.client.call();
      process.kill(s.server.pid, 'SIGUSR1');
    }
    for (let b = 0; b < blocks; b++) {
      for (const s of b % 2 ? [...servers].reverse() : servers) {
        for (let i = 0; i < perBlock; i++) await s.client!.call();
      }
    }
    const splits: Split[] = [];
    for (const s of servers) splits.push(await readSplit(s.server));
    console.log(`${process.version}, ${blocks} × ${perBlock} sequential calls per path`);
    console.log(
      'path                 before the write   after the write   (µs of active loop per call)',
    );
    servers.forEach((s, i) => {
      const { workUs, afterUs } = splits[i]!;
      console.log(
        `${s.name.padEnd(20)} ${workUs.toFixed(0).padStart(16)} ${afterUs.toFixed(0).padStart(17)}`,
      );
    });
  } finally {
    for (const s of servers) {
      s.client?.close();
      await s.server.stop();
    }
    await sim.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
