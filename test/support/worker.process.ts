import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const METRICS_LINE = /Metrics on (http:\/\/\S+\/metrics)/;

/**
 * `npm run worker` (src/worker/main.ts) as a real child process, compiled on the fly by
 * @swc-node/register, so a test can kill it with SIGKILL mid-call, as a crash would.
 */
export class WorkerProcess {
  /** Resolves once the process has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    /** Its `GET /metrics` (WORKER_METRICS_PORT, a free port here). */
    readonly metricsUrl: string,
    output: string,
  ) {
    this.output = output;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve({ code: child.exitCode, signal: child.signalCode });
      } else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** Starts the worker and resolves once it consumes the queue. */
  static async start(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/worker/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        SWC_NODE_IGNORE_DYNAMIC: '1',
        LLM_EVENTS_LOG: 'false',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        WORKER_METRICS_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 45_000);
      const collect = (text: string) => {
        output = (output + text).slice(-8000);
        if (output.includes('Job worker consuming') && METRICS_LINE.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.setEncoding('utf8').on('data', collect);
      child.stderr.setEncoding('utf8').on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code}):\n${output}`));
      });
    });
    child.stdout.removeAllListeners('data');
    child.stderr.removeAllListeners('data');
    const worker = new WorkerProcess(child, METRICS_LINE.exec(output)![1]!, output);
    // Keep reading (a full pipe would block it), and keep the tail for failure messages.
    const keep = (text: string) => (worker.output = (worker.output + text).slice(-8000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    return worker;
  }

  /** What it wrote to stdout and stderr (the last 8 000 characters). */
  logs(): string {
    return this.output;
  }

  /** Sends a signal (e.g. SIGTERM: the worker closes and exits). */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGKILL: no shutdown hook runs, nothing is acked or nacked. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
