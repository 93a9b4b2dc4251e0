import { Redis } from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stopChild, trackChild } from './child-processes';
import { freeLoopbackPort } from './free-port';

/** Debian's package puts it here; `.ci/run` installs the `redis-server` package. */
const REDIS_SERVER = process.env.REDIS_SERVER_BIN?.trim() || '/usr/bin/redis-server';
const READY = /Ready to accept connections/;

/** A throw-away redis-server on a loopback port, with no persistence. */
export interface RedisServerProcess {
  /** e.g. `redis://127.0.0.1:41234` */
  url: string;
  port: number;
  /** Stops it (SIGTERM); the port stays reserved for {@link restart}. */
  stop(): Promise<void>;
  /** Starts a fresh, empty server on the same port, as after a crash and restart. */
  restart(): Promise<void>;
}

/** Whether a redis-server binary is installed; benchmarks that need one are skipped without it. */
export function redisServerAvailable(): boolean {
  return existsSync(REDIS_SERVER);
}

/** Starts redis-server on a free loopback port and resolves once it accepts connections. */
export async function startRedisServer(): Promise<RedisServerProcess> {
  const port = await freeLoopbackPort();
  let child = await spawnRedis(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => stopChild(child),
    restart: async () => {
      await stopChild(child);
      child = await spawnRedis(port);
    },
  };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  // No snapshot, no AOF: nothing is written to disk, and a restart starts empty.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const collect = (text: string): void => {
        output += text;
        if (READY.test(output)) resolve();
      };
      child.stdout?.setEncoding('utf8').on('data', collect);
      child.stderr?.setEncoding('utf8').on('data', collect);
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)),
      );
    });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  // Keep draining its output so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** Keys in the server's database: proof that a client really kept its state there. */
export async function countRedisKeys(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return await client.dbsize();
  } finally {
    client.disconnect();
  }
}
