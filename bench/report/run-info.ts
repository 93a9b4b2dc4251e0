import * as os from 'node:os';
import type { BenchConfig } from '../latency/latency.config';

/** Where and how a run was made, stored next to its figures so they can be compared later. */
export interface RunInfo {
  date: string;
  node: string;
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    platform: string;
    arch: string;
    release: string;
  };
  parameters: Omit<BenchConfig, 'outDir'>;
  /** `uptime`'s load averages (1, 5, 15 min) when the run started: the CPU is shared. */
  loadAverage?: string;
}

/** The machine's load averages right now, as `uptime` prints them: `1.52, 1.10, 0.87`. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
}

/** Describes this machine and the run's parameters. */
export function collectRunInfo(config: BenchConfig): RunInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: loadAverage(),
    machine: {
      cpu: cpus[0]?.model.trim() || 'unknown CPU',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: os.platform(),
      arch: os.arch(),
      release: os.release(),
    },
    parameters: {
      calls: config.calls,
      warmup: config.warmup,
      concurrency: config.concurrency,
      throughputCalls: config.throughputCalls,
      targetP99AddedUs: config.targetP99AddedUs,
    },
  };
}

/** The run's date, Node and machine, without the latency benchmark's parameters. */
export function machineInfo(info: RunInfo): Omit<RunInfo, 'parameters'> {
  return { date: info.date, node: info.node, machine: info.machine, loadAverage: info.loadAverage };
}
