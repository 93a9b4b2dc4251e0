import { type ChildProcess, spawn } from 'node:child_process';
import { stopChild, trackChild } from '../support/child-processes';
import { childEnv, REPO_ROOT } from '../support/child.env';

/** `npm run worker` in its own process, as deployed: killed with SIGKILL to play a crash. */
export interface WorkerProcess {
  kill(): void;
  stop(): Promise<void>;
}

/** Starts `src/worker/main.ts` with only the given settings and resolves once it consumes. */
export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'src/worker/main.ts'],
    {
      cwd: REPO_ROOT,
      env: { ...childEnv(env), LLM_EVENTS_LOG: 'false' },
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
