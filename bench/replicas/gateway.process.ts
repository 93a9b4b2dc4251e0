import { spawn } from 'node:child_process';
import { stopChild, trackChild } from '../support/child-processes';
import { GATEWAY_LISTENING, gatewayChildEnv, REPO_ROOT } from '../support/child.env';

/** One gateway replica (`src/main.ts`) in its own process. */
export interface GatewayProcess {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  /** What it wrote so far (its logs say when it fell back from Redis). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the gateway as `npm start` would (TypeScript through @swc-node/register), on a free
 * loopback port, with only the given settings: no OTEL_* or ELASTICSEARCH_* of the caller's can
 * send data anywhere, traces are not exported and events are not logged.
 */
export async function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: gatewayChildEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let output = '';
  const collect = (text: string) => (output += text);
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', () => {
        const match = GATEWAY_LISTENING.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`A gateway exited (${code}):\n${output}`)));
    });
    return { url, output: () => output, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
