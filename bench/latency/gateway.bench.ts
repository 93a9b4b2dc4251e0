import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { readInt } from '../support/env.reader';
import { roundFigures, spliceIntoBenchReadme } from '../report/results.files';
import { REPO_ROOT } from '../support/child.env';
import { stopChild, trackChild } from '../support/child-processes';
import { renderGatewayPlot } from './gateway.plot';
import { formatGatewayMarkdown } from './gateway.report';
import type { GatewayRun, GatewayScenarioOptions } from './gateway.scenario';
import { PORTKEY_DIR, portkeyInstalled } from './servers';

/** Where the Node versions of the comparison are installed on demand (git-ignored). */
const NODE_DIR = path.join(__dirname, '.node');

/**
 * `npm run bench -- gateway`: direct, the bare pass-through (the floor), this gateway and
 * Portkey's gateway in one interleaved run per Node version: BENCH_GATEWAY_RUNS runs (default 3)
 * under Node 24, one under Node 22. Node 22 and 24 come from the npm registry (`node@22`,
 * `node@24`) into bench/latency/.node unless BENCH_NODE22 / BENCH_NODE24 name binaries; the peer
 * is installed on demand from bench/latency/peers/portkey's lockfile (`npm ci --ignore-scripts`),
 * BENCH_PEER=0 leaves it out. BENCH_GATEWAY_CALLS (default 3000) sets the sequential calls per
 * path; this gateway runs on Express and, beside it, on Fastify (BENCH_GATEWAY_FASTIFY=0: Express
 * only); GATEWAY_HTTP_PLATFORM runs it on that platform only. BENCH_GATEWAY_BASELINE names a checkout
 * of an earlier version (its `src/`, `tsconfig.json`, `package.json` and a `node_modules` link),
 * whose gateway is measured beside this one for a before/after in the same run. Writes gateway-latency.{json,md,png}.
 */
export async function runGatewayBench(outDir: string): Promise<string[]> {
  const runsOn24 = readInt(process.env, 'BENCH_GATEWAY_RUNS', 3, 1, 10);
  const calls = readInt(process.env, 'BENCH_GATEWAY_CALLS', 3_000, 100, 50_000);
  const peer = process.env.BENCH_PEER !== '0' && ensurePortkey();
  const options: GatewayScenarioOptions = {
    calls,
    warmup: Math.min(300, calls),
    streams: Math.max(100, Math.round(calls / 10)),
    concurrency: 64,
    upstreamLatencyMs: 50,
    throughputCalls: 64 * 60,
    openStreams: 1_000,
    gatewayEnv: process.env.GATEWAY_HTTP_PLATFORM
      ? { GATEWAY_HTTP_PLATFORM: process.env.GATEWAY_HTTP_PLATFORM }
      : {},
    peer,
    // This gateway on Express and on Fastify in the same run; BENCH_GATEWAY_FASTIFY=0 leaves
    // Fastify out (so does a GATEWAY_HTTP_PLATFORM given to the whole run).
    bothPlatforms: process.env.BENCH_GATEWAY_FASTIFY !== '0',
    ...(process.env.BENCH_GATEWAY_BASELINE?.trim()
      ? { baselineRoot: process.env.BENCH_GATEWAY_BASELINE.trim() }
      : {}),
  };
  const plan: Array<[string, string]> = [
    ...Array.from({ length: runsOn24 }, () => ['24', nodeBinary('24')] as [string, string]),
    ['22', nodeBinary('22')],
  ];
  const runs: GatewayRun[] = [];
  for (const [index, [major, node]] of plan.entries()) {
    console.log(
      `Gateway comparison run ${index + 1}/${plan.length} on Node ${major} (load ${os.loadavg()[0]!.toFixed(2)})`,
    );
    try {
      runs.push(await runOnce(node, options));
    } catch (error) {
      // One failed run (a crash under a loaded machine) must not lose the others.
      console.error(`Run ${index + 1} failed:`, error);
      process.exitCode = 1;
    }
  }
  if (runs.length === 0) throw new Error('Every run of the gateway comparison failed');
  const markdown = formatGatewayMarkdown(runs);
  console.log(`\n${markdown}`);
  await mkdir(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, 'gateway-latency.json'),
    markdown: path.join(outDir, 'gateway-latency.md'),
    png: path.join(outDir, 'gateway-latency.png'),
  };
  await writeFile(files.json, `${JSON.stringify(runs, roundFigures)}\n`);
  await writeFile(files.markdown, markdown);
  await writeFile(files.png, await renderGatewayPlot(runs));
  const readme = `![Gateway overhead vs the floor and a peer](results/gateway-latency.png)\n\n${markdown}`;
  return [
    ...Object.values(files),
    ...(await spliceIntoBenchReadme('gateway-latency', readme, outDir)),
  ];
}

/** One run under `node` in a child process (every server it starts runs under that Node). */
async function runOnce(node: string, options: GatewayScenarioOptions): Promise<GatewayRun> {
  const out = path.join(os.tmpdir(), `gateway-run-${process.pid}-${Date.now()}.json`);
  const child = spawn(node, ['-r', '@swc-node/register', 'bench/latency/gateway.run.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SWC_NODE_IGNORE_DYNAMIC: '1',
      GATEWAY_BENCH_OPTIONS: JSON.stringify(options),
      GATEWAY_BENCH_OUT: out,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  trackChild(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await stopChild(child);
  if (code !== 0) throw new Error(`The gateway comparison under ${node} failed (exit ${code})`);
  const run = JSON.parse(fs.readFileSync(out, 'utf8')) as GatewayRun;
  fs.rmSync(out, { force: true });
  return run;
}

/** BENCH_NODE<major>, or Node <major> from the npm registry, installed once. */
function nodeBinary(major: '22' | '24'): string {
  const given = process.env[`BENCH_NODE${major}`]?.trim();
  if (given) return given;
  if (process.version.startsWith(`v${major}.`)) return process.execPath;
  const prefix = path.join(NODE_DIR, major);
  const binary = path.join(prefix, 'node_modules', '.bin', 'node');
  if (!fs.existsSync(binary)) {
    console.log(
      `Installing node@${major} from the npm registry into ${path.relative(REPO_ROOT, prefix)}`,
    );
    const result = spawnSync(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node@${major}`],
      { stdio: 'inherit' },
    );
    if (result.status !== 0 || !fs.existsSync(binary)) {
      throw new Error(
        `Could not install node@${major}; set BENCH_NODE${major} to a Node ${major} binary`,
      );
    }
  }
  return binary;
}

/** Installs the peer from its lockfile when it is not there yet; false when that fails. */
function ensurePortkey(): boolean {
  if (portkeyInstalled()) return true;
  console.log(`Installing the peer gateway into ${path.relative(REPO_ROOT, PORTKEY_DIR)} (npm ci)`);
  const result = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: PORTKEY_DIR,
    stdio: 'inherit',
  });
  if (result.status !== 0 || !portkeyInstalled()) {
    console.log('The peer gateway could not be installed: the comparison runs without it.');
    return false;
  }
  return true;
}
