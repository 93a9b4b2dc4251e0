import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's `rabbitmq-server` package installs its scripts here; `.ci/run` installs the package. */
const RABBITMQ_SERVER =
  process.env.RABBITMQ_SERVER_BIN?.trim() || '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = process.env.EPMD_BIN?.trim() || '/usr/bin/epmd';
const READY = /Server startup complete|Time to start RabbitMQ/;
/** The broker takes about 6 s to boot on a quiet machine; a busy CI machine gets more. */
const START_TIMEOUT_MS = 90_000;

/** Whether a rabbitmq-server is installed (the benchmarks skip their jobs part without). */
export function rabbitmqServerAvailable(): boolean {
  return existsSync(RABBITMQ_SERVER) && existsSync(EPMD);
}

/** Options of {@link RabbitMqServer.start}. */
export interface RabbitMqServerOptions {
  /** Told about every process started, e.g. to kill it if the owner exits first. */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * A throw-away RabbitMQ broker on free loopback ports, with its node name, Mnesia database, logs
 * and Erlang cookie in its own temporary directory and no plugins. It runs its own `epmd` on a
 * free port too (ERL_EPMD_PORT), so nothing outlives {@link close}: the broker and epmd are
 * stopped by killing their process groups. {@link restart} keeps the data directory, as a real
 * broker restart does: durable queues and persistent messages survive it.
 *
 * @example
 * const broker = await RabbitMqServer.start();
 * // ... LlmJobsModule.forRoot({ rabbitmqUrl: broker.url, ... }) ...
 * await broker.restart(); // stopped hard and started again on the same port, same data
 * await broker.close();
 */
export class RabbitMqServer {
  private child?: ChildProcess;
  private epmd?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly distPort: number,
    private readonly epmdPort: number,
    private readonly dir: string,
    private readonly options: RabbitMqServerOptions,
  ) {}

  /** Starts a broker on free ports and resolves once it accepts AMQP connections. */
  static async start(options: RabbitMqServerOptions = {}): Promise<RabbitMqServer> {
    const dir = mkdtempSync(join(tmpdir(), 'rabbitmq-test-'));
    const [port, distPort, epmdPort] = await freeLoopbackPorts(3);
    const server = new RabbitMqServer(port!, distPort!, epmdPort!, dir, options);
    try {
      server.startEpmd();
      await server.boot();
      return server;
    } catch (error) {
      await server.close();
      throw error;
    }
  }

  /** e.g. `amqp://guest:guest@127.0.0.1:41234` (guest may connect over loopback only). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Stops the broker hard (SIGKILL of its process group), as a crash does; data stays. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await killGroup(child);
  }

  /**
   * Freezes the broker (SIGSTOP to its process group): connections stay open but nothing answers,
   * as when it hangs. {@link stop} still kills it (SIGKILL reaches a stopped process).
   */
  pause(): void {
    const pid = this.child?.pid;
    if (pid) process.kill(-pid, 'SIGSTOP');
  }

  /** Stops the broker and starts it again on the same ports with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.boot();
  }

  /** Stops the broker and its epmd for good and removes its directory. */
  async close(): Promise<void> {
    await this.stop();
    const epmd = this.epmd;
    this.epmd = undefined;
    await killGroup(epmd);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private env(): NodeJS.ProcessEnv {
    const plugins = join(this.dir, 'enabled_plugins');
    writeFileSync(plugins, '[].\n');
    return {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      // The Erlang cookie is written under HOME.
      HOME: this.dir,
      ERL_EPMD_PORT: String(this.epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_NODENAME: `rabbit-test-${this.port}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_LOGS: '-',
      RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
    };
  }

  // Our own epmd in the foreground, in its own process group: the broker's Erlang VM would
  // otherwise start a daemon epmd that outlives every test.
  private startEpmd(): void {
    const epmd = spawn(EPMD, ['-port', String(this.epmdPort), '-address', '127.0.0.1'], {
      stdio: 'ignore',
      detached: true,
    });
    this.options.onSpawn?.(epmd);
    this.epmd = epmd;
  }

  private async boot(): Promise<void> {
    const child = spawn(RABBITMQ_SERVER, [], {
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: the script, the Erlang VM and its port programs die together.
      detached: true,
    });
    this.options.onSpawn?.(child);
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`rabbitmq-server did not start in time:\n${output.slice(-4000)}`)),
        START_TIMEOUT_MS,
      );
      const collect = (text: string): void => {
        output = (output + text).slice(-20_000);
        if (READY.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.setEncoding('utf8').on('data', collect);
      child.stderr.setEncoding('utf8').on('data', collect);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`rabbitmq-server exited (${code}):\n${output.slice(-4000)}`));
      });
    }).catch(async (error: unknown) => {
      await this.stop();
      throw error;
    });
    // Keep draining its output, so a full pipe never blocks it.
    child.stdout.removeAllListeners('data').resume();
    child.stderr.removeAllListeners('data').resume();
  }
}

/** SIGKILL to the child's whole process group, resolved once the child has exited. */
async function killGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  await exited;
}

async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
