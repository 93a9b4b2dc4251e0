import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stopChild, trackChild } from '../support/child-processes';
import { childEnv, GATEWAY_LISTENING, REPO_ROOT } from '../support/child.env';

/** A server the latency benchmark started in its own process. */
export interface ServerProcess {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  /** The child's pid (for memory readings). */
  pid: number;
  stop(): Promise<void>;
}

const SWC = ['-r', '@swc-node/register'];

/** CPU time (user + system, ms) a process has used so far, from `/proc/<pid>/stat`. */
export function cpuMsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The zero-latency simulator (`src/simulator/main.ts`) under this Node; `nodeArgs` go to its Node. */
export function startSimulator(nodeArgs: string[] = []): Promise<ServerProcess> {
  return launch(
    [...SWC, ...nodeArgs, 'src/simulator/main.ts'],
    { SIM_PORT: '0', SIM_HOST: '127.0.0.1' },
    /listening on (http:\/\/[\d.:]+)\/v1/,
  );
}

/** How the floor is made to spend more CPU per plain call (none by default: the floor as it is). */
export interface BareBusy {
  /** µs of busy loop per plain call (`BARE_BUSY_US`). */
  busyUs: number;
  /** Share of it before the upstream request (`BARE_BUSY_IN_SHARE`; 2/3 by default). */
  inShare?: number;
  /** Share after the answer, on the next turn (`BARE_BUSY_AFTER_SHARE`; 0 by default). */
  afterShare?: number;
}

/**
 * The floor: {@link ./bare-proxy.ts} in front of the simulator, spending `busy` more CPU per plain
 * call when given (the share neither before the request nor after the answer falls before the
 * answer); `nodeArgs` go to its Node (a preload).
 */
export function startBareProxy(
  upstreamBaseUrl: string,
  { busyUs, inShare = 2 / 3, afterShare = 0 }: BareBusy = { busyUs: 0 },
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  return launch(
    [...SWC, ...nodeArgs, 'bench/latency/bare-proxy.ts'],
    {
      UPSTREAM: upstreamBaseUrl,
      BARE_BUSY_US: String(busyUs),
      BARE_BUSY_IN_SHARE: String(inShare),
      BARE_BUSY_AFTER_SHARE: String(afterShare),
    },
    /bare proxy listening on (http:\/\/\S+)/,
  );
}

/**
 * This gateway (`src/main.ts`) with its defaults in front of the simulator, as `npm start` runs
 * it; `env` adds settings (e.g. GATEWAY_HTTP_PLATFORM). Its log lines (events included, its
 * default without Elasticsearch) are read and dropped.
 */
export function startGateway(
  upstreamBaseUrl: string,
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
  root: string = REPO_ROOT,
): Promise<ServerProcess> {
  return launch(
    [...SWC, ...nodeArgs, 'src/main.ts'],
    {
      PORT: '0',
      HOST: '127.0.0.1',
      LLM_BASE_URL: upstreamBaseUrl,
      LLM_API_KEY: 'sk-bench',
      ...env,
    },
    GATEWAY_LISTENING,
    root,
  );
}

/** Where the peer gateway is installed on demand (its own package.json and lockfile). */
export const PORTKEY_DIR = path.join(__dirname, 'peers', 'portkey');
const PORTKEY_ENTRY = path.join(
  PORTKEY_DIR,
  'node_modules',
  '@portkey-ai',
  'gateway',
  'build',
  'start-server.js',
);

/** Whether the peer is installed (`npm ci --ignore-scripts` in {@link PORTKEY_DIR}). */
export function portkeyInstalled(): boolean {
  return fs.existsSync(PORTKEY_ENTRY);
}

/** Portkey's open-source gateway (headless) on a free port. */
export async function startPortkey(): Promise<ServerProcess> {
  const port = await freePort();
  const server = await launch(
    [PORTKEY_ENTRY, `--port=${port}`, '--headless'],
    { NODE_ENV: 'production' },
    undefined,
    REPO_ROOT,
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForPort(port);
  return { ...server, origin };
}

async function launch(
  args: string[],
  env: NodeJS.ProcessEnv,
  listening: RegExp | undefined,
  cwd: string = REPO_ROOT,
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd,
    env: { ...childEnv(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let output = '';
  let found = listening === undefined;
  const collect = (text: string) => {
    // Only the start-up lines are kept: a gateway logs an event per call.
    if (!found) output += text;
  };
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  const stop = () => stopChild(child);
  if (!listening) return { origin: '', pid: child.pid!, stop };
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', () => {
        const match = listening.exec(output);
        if (match?.[1] && !found) {
          found = true;
          resolve(match[1].replace(/\/$/, ''));
        }
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`${args.join(' ')} exited (${code}):\n${output}`)),
      );
    });
    return { origin, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Nothing listens on port ${port} after ${timeoutMs} ms`);
}
