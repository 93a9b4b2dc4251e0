import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The test worker (microservice-worker.main.ts) as a child process a test can SIGTERM. */
export class MicroserviceWorkerProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (this.output += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.output += text));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Starts the worker and resolves once it listens. */
  static async start(env: Record<string, string>): Promise<MicroserviceWorkerProcess> {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', 'test/support/microservice-worker.main.ts'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, SWC_NODE_IGNORE_DYNAMIC: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const worker = new MicroserviceWorkerProcess(child);
    const deadline = Date.now() + 45_000;
    while (!worker.output.includes('worker ready')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        worker.kill();
        throw new Error(`worker did not start:\n${worker.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return worker;
  }

  /** The business events it wrote (JSON lines on stdout). */
  events(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"event.action"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  log(): string {
    return this.output;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILL when still running (cleanup). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
