import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './redis-server';

/** A server binary started by a test, with its own scratch directory. */
export interface ServerProcess {
  /** Everything it wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** SIGTERM (SIGKILL after 5 s), then removes its scratch directory. */
  stop(): Promise<void>;
}

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** For error messages, e.g. `prometheus`. */
  name: string;
  bin: string;
  /** Built once the scratch directory exists (config and data go there). */
  args: (dir: string) => string[];
  /** Polled until it answers 200: e.g. `http://127.0.0.1:9090/-/ready`. */
  readyUrl: string;
  /** @default 15000 */
  readyTimeoutMs?: number;
  /** Called with the scratch directory before the spawn, to write config files. */
  prepare?: (dir: string) => void;
}

/**
 * Starts a server as a plain child process (Prometheus, Alertmanager) and resolves once its
 * readiness URL answers. If it exits or never gets ready, the scratch directory is removed and
 * the error carries its output.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), `${options.name}-`));
  let child: ChildProcess | undefined;
  let output = '';
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    options.prepare?.(dir);
    child = spawn(options.bin, options.args(dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    // If the test process dies first (a jest timeout, Ctrl-C), the server must not outlive it.
    const killOnExit = (): void => void child?.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    const collect = (text: string): void => {
      // Keep the tail only: a chatty server must not grow the test's memory.
      output = (output + text).slice(-20_000);
    };
    child.stdout?.setEncoding('utf8').on('data', collect);
    child.stderr?.setEncoding('utf8').on('data', collect);
    const failed = new Promise<never>((_, reject) => {
      child!.once('error', reject);
      child!.once('exit', (code) =>
        reject(new Error(`${options.name} exited (${code}):\n${output}`)),
      );
    });
    failed.catch(() => undefined);
    await Promise.race([waitReady(options), failed]);
    return { output: () => output, stop };
  } catch (error) {
    await stop();
    throw error instanceof Error ? new Error(`${error.message}\n${output}`) : error;
  }
}

async function waitReady(options: ServerProcessOptions): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  for (;;) {
    try {
      const res = await fetch(options.readyUrl);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${options.name} not ready at ${options.readyUrl}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs `start` with a free loopback port, and again with another one if it fails: the port can
 * be taken between the probe and the server's bind. The last error is thrown.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await start(await freeLoopbackPort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
