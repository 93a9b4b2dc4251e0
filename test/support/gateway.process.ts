import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { platformEnv } from './gateway-test-app';

/** The gateway's real entry point (`src/main.ts`) running in a child process. */
export interface GatewayProcess {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Sends SIGTERM and resolves once the process exited. */
  stop(): Promise<void>;
}

const LISTENING = /Gateway listening on (http:\/\/\S+?) /;

/**
 * Starts `src/main.ts` as `npm start` would (TypeScript through @swc-node/register), on a free
 * loopback port with the given environment. Only a separate process shows what happens at boot:
 * in jest, modules are loaded by jest's own `require`.
 */
export async function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const root = path.join(__dirname, '..', '..');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: root,
    env: {
      ...platformEnv(),
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      NO_COLOR: '1',
      SWC_NODE_IGNORE_DYNAMIC: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (text: string) => (output += text);
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = LISTENING.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`The gateway exited (${code}):\n${output}`)));
  });
  return { url, output: () => output, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
