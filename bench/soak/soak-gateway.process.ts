import { fork } from 'node:child_process';
import * as path from 'node:path';
import { stopChild, trackChild } from '../support/child-processes';
import { GATEWAY_LISTENING, gatewayChildEnv, REPO_ROOT } from '../support/child.env';
import type { GatewaySample } from './gateway-probe';

/** The gateway (`src/main.ts`) in a child process that answers samples of itself. */
export interface SoakGateway {
  url: string;
  output(): string;
  sample(): Promise<GatewaySample>;
  /** Sends SIGTERM and resolves with the ms until the process exited. */
  terminate(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Forks the gateway as `npm start` runs it, with the probe preloaded and `--expose-gc`, on a free
 * loopback port, with only the given settings (no OTEL_* or ELASTICSEARCH_* of the caller's).
 */
export async function startSoakGateway(env: NodeJS.ProcessEnv): Promise<SoakGateway> {
  const child = fork(path.join(REPO_ROOT, 'src', 'main.ts'), [], {
    cwd: REPO_ROOT,
    execArgv: [
      '--expose-gc',
      '-r',
      '@swc-node/register',
      '-r',
      path.join(__dirname, 'gateway-probe.ts'),
    ],
    env: { ...gatewayChildEnv(env), LLM_EVENTS_LOG: 'false' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  trackChild(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', () => {
        const match = GATEWAY_LISTENING.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`The gateway exited (${code}):\n${output}`)));
    });
    return {
      url,
      output: () => output,
      sample: () =>
        new Promise<GatewaySample>((resolve) => {
          const onMessage = (message: GatewaySample) => {
            if (message?.type !== 'soak:sample') return;
            child.off('message', onMessage);
            resolve(message);
          };
          child.on('message', onMessage);
          child.send('soak:sample');
        }),
      terminate: () =>
        new Promise<number>((resolve) => {
          const started = Date.now();
          child.once('exit', () => resolve(Date.now() - started));
          child.kill('SIGTERM');
        }),
      stop: () => stopChild(child, 30_000),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
