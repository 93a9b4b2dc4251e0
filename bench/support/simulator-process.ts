import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { stopChild, trackChild } from './child-processes';

/** The simulator running in a child process, as `npm run simulator` runs it. */
export interface SimulatorProcess {
  /** OpenAI-style base URL, e.g. `http://127.0.0.1:41234/v1`. */
  baseUrl: string;
  close(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/\S+\/v1)/;

/**
 * Starts the simulator in its own process on a free loopback port. Out of process, its work and
 * its garbage do not land in the measured process: every pause measured there is the client's.
 */
export async function startSimulatorProcess(): Promise<SimulatorProcess> {
  const entry = path.join(__dirname, '..', '..', 'src', 'simulator', 'main.ts');
  // The simulator reads SIM_* at start: none of the caller's may change what is measured.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SIM_')),
  );
  const child = spawn(process.execPath, [...process.execArgv, entry], {
    env: { ...env, SIM_PORT: '0', SIM_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  trackChild(child);
  try {
    const baseUrl = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (text: string) => {
        output += text;
        const match = LISTENING.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`The simulator exited (${code}): ${output}`)));
    });
    return { baseUrl, close: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
