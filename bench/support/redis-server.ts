import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** Debian's `redis-server` package installs it here; `.ci/run` installs the package. */
const REDIS_SERVER = process.env.REDIS_SERVER_BIN?.trim() || '/usr/bin/redis-server';
const READY = /Ready to accept connections/;

/** Whether a redis-server binary is installed (the benchmarks skip their Redis parts without). */
export function redisServerAvailable(): boolean {
  return existsSync(REDIS_SERVER);
}

/** Options of {@link RedisServer.start}. */
export interface RedisServerOptions {
  /** Told about every process started, e.g. to kill it if the owner exits first. */
  onSpawn?: (child: ChildProcess) => void;
  /** A password clients must give (`--requirepass`); none by default. */
  requirePass?: string;
}

/**
 * A throw-away redis-server on a free loopback port, with nothing written to disk. It can be
 * stopped and started again on the same port mid-test, to play "Redis is down" and "it is back".
 *
 * @example
 * const redis = await RedisServer.start();
 * // ... LlmModule.forRoot({ ..., redis: { url: redis.url } }) ...
 * await redis.stop(); // down
 * await redis.restart(); // back, empty, same port
 * await redis.close();
 */
export class RedisServer {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a server on a free port and resolves once it accepts connections. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    let lastError: unknown;
    // The free port may be taken between the probe and the spawn: try another.
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new RedisServer(await freeLoopbackPort(), options);
      try {
        await server.restart();
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** e.g. `redis://127.0.0.1:41234` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the server runs now. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Stops the server (its clients see the connection close); the port stays this server's. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // SIGKILL reaches a paused process too, and plays a crash.
      child.kill('SIGKILL');
    });
  }

  /** Starts it (again) on the same port, empty, as after a crash and a restart. */
  async restart(): Promise<void> {
    await this.stop();
    // No snapshot and no AOF: nothing touches the disk, and a restart starts empty.
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...(this.options.requirePass === undefined
        ? []
        : ['--requirepass', this.options.requirePass]),
    ];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.options.onSpawn?.(child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const collect = (text: string): void => {
        output += text;
        if (READY.test(output)) resolve();
      };
      child.stdout.setEncoding('utf8').on('data', collect);
      child.stderr.setEncoding('utf8').on('data', collect);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
    });
    // Keep draining its output, so a full pipe never blocks it.
    child.stdout.resume();
    child.stderr.resume();
    this.child = child;
  }

  /** Freezes the process (SIGSTOP): connections stay open but nothing answers, as when hung. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a paused server go on (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the server for good. */
  close(): Promise<void> {
    return this.stop();
  }
}

/** A loopback port that was free a moment ago (another process may take it before it is used). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free loopback port'))));
    });
  });
}
