import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { stopChild, trackChild } from '../child-processes';

/** Variables the child inherits: enough to run node, nothing that configures the worker. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

/** `npm run worker` in its own process, as deployed: killed with SIGKILL to play a crash. */
export interface WorkerProcess {
  kill(): void;
  stop(): Promise<void>;
}

/** Starts `src/worker/main.ts` with only the given settings and resolves once it consumes. */
export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const root = path.join(__dirname, '..', '..');
  const base = Object.fromEntries(INHERITED.map((name) => [name, process.env[name]]));
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'src/worker/main.ts'],
    {
      cwd: root,
      env: {
        ...base,
        ...env,
        NO_COLOR: '1',
        SWC_NODE_IGNORE_DYNAMIC: '1',
        LLM_EVENTS_LOG: 'false',
        OTEL_TRACES_EXPORTER: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  trackChild(child);
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const collect = (text: string) => {
        output = (output + text).slice(-8_000);
        if (output.includes('Job worker consuming')) resolve();
      };
      child.stdout?.setEncoding('utf8').on('data', collect);
      child.stderr?.setEncoding('utf8').on('data', collect);
      child.once('exit', (code) => reject(new Error(`A worker exited (${code}):\n${output}`)));
    });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    kill: () => void child.kill('SIGKILL'),
    stop: () => stopChild(child),
  };
}
