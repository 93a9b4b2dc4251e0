import type { GatewayRun } from './gateway.scenario';
import type { HttpPathId } from './http-paths';

/** The acceptance ratios of issue 15. */
export const GATEWAY_TARGETS = { addedVsFloor: 1.5, throughputVsDirect: 0.95 } as const;

/** One path of one run, relative to direct and to the floor. */
export interface PathVerdict {
  id: HttpPathId;
  label: string;
  addedP50Us: number;
  addedP99Us: number;
  /** Added latency over the bare pass-through's (the floor), p50 and p99. */
  p50VsFloor: number;
  p99VsFloor: number;
  throughputVsDirect: number;
  /** Time to first content minus direct's, median, µs. */
  ttfcAddedUs: number;
  bytesPerStream?: number;
}

/**
 * Every proxying path of a run, set against direct and the floor of its own interleaved group
 * (the peer's: {@link GatewayRun.peerGroup}); throughput against direct's of the one rotation.
 */
export function verdicts(run: GatewayRun): PathVerdict[] {
  const direct = run.paths.find((p) => p.id === 'direct')!;
  const bare = run.paths.find((p) => p.id === 'bare')!;
  return run.paths
    .filter((p) => p.id !== 'direct')
    .map((p) => {
      const group = p.id === 'portkey' && run.peerGroup ? run.peerGroup : { direct, bare };
      const floorP50 = group.bare.p50Us - group.direct.p50Us;
      const floorP99 = group.bare.p99Us - group.direct.p99Us;
      return {
        id: p.id,
        label: p.label,
        addedP50Us: p.p50Us - group.direct.p50Us,
        addedP99Us: p.p99Us - group.direct.p99Us,
        p50VsFloor: (p.p50Us - group.direct.p50Us) / floorP50,
        p99VsFloor: (p.p99Us - group.direct.p99Us) / floorP99,
        throughputVsDirect: p.callsPerSecond / direct.callsPerSecond,
        ttfcAddedUs: p.ttfcP50Us - group.direct.ttfcP50Us,
        bytesPerStream: run.bytesPerStream[p.id],
      };
    });
}

const ms = (us: number) => (us / 1_000).toFixed(2);
const x = (r: number) => `${r.toFixed(2)} ×`;

/** The markdown of every run: one row per path per run, then the acceptance per run. */
export function formatGatewayMarkdown(runs: readonly GatewayRun[]): string {
  const lines = [
    '| run | Node | load (1 min) before → after | path | added p50 (ms) | added p99 (ms) | p50 / floor | p99 / floor | throughput / direct @64 | TTFC added p50 (ms) | bytes / open stream |',
    '| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  runs.forEach((run, i) => {
    const load = `${run.loadBefore.split(',')[0]} → ${run.loadAfter.split(',')[0]}`;
    for (const v of verdicts(run)) {
      lines.push(
        `| ${i + 1} | ${run.node} | ${load} | ${v.label} | ${ms(v.addedP50Us)} | ${ms(v.addedP99Us)} | ${x(v.p50VsFloor)} | ${x(v.p99VsFloor)} | ${v.throughputVsDirect.toFixed(3)} | ${ms(v.ttfcAddedUs)} | ${v.bytesPerStream === undefined ? '–' : Math.round(v.bytesPerStream).toLocaleString('en-US')} |`,
      );
    }
  });
  lines.push('', '**Acceptance (this gateway, issue 15)**', '');
  runs.forEach((run, i) => {
    const all = verdicts(run);
    // The floor's own throughput, beside the gateway's: on a shared 2-core machine it moves too.
    const floor = all.find((v) => v.id === 'bare')!.throughputVsDirect;
    for (const g of all.filter((v) => v.id === 'gateway' || v.id === 'fastify')) {
      const ok = (met: boolean) => (met ? 'met' : 'missed');
      const on = g.id === 'fastify' ? ' on Fastify' : '';
      lines.push(
        `- run ${i + 1}, Node ${run.node}${on}: p50 ${x(g.p50VsFloor)} the floor (${ok(g.p50VsFloor <= GATEWAY_TARGETS.addedVsFloor)}), ` +
          `p99 ${x(g.p99VsFloor)} (${ok(g.p99VsFloor <= GATEWAY_TARGETS.addedVsFloor)}), ` +
          `throughput ${g.throughputVsDirect.toFixed(3)} × direct (${ok(g.throughputVsDirect >= GATEWAY_TARGETS.throughputVsDirect)}; ` +
          `the floor ${floor.toFixed(3)}, this gateway ${(g.throughputVsDirect / floor).toFixed(3)} × the floor's), ` +
          `time to first content +${ms(g.ttfcAddedUs)} ms (${ok(g.ttfcAddedUs <= 1_000)})`,
      );
    }
  });
  const first = runs[0];
  if (first) {
    const o = first.options;
    lines.push(
      '',
      `Each run: ${o.calls} sequential calls per path interleaved (shuffled order per round, ${o.warmup} warm-up), ` +
        (first.peerGroup
          ? "Portkey's in a group of its own with direct and the floor measured again beside it (its ratios are to that group's; the path measured right after it read slower, direct included), "
          : '') +
        `upstream answering at once; ${o.streams} streams per path for the time to first content; ` +
        `${o.concurrency} calls in flight per path against a ${o.upstreamLatencyMs} ms upstream ` +
        `(alternating blocks, ${o.throughputCalls} calls per path) for throughput; ` +
        `${o.openStreams} streams held open through each proxy for memory (slope of its resident set over open streams, in four steps). ` +
        'Every server runs in its own process under the Node of its run; the load average is ' +
        '`uptime`’s on a 2-core machine shared with other work.',
    );
  }
  return `${lines.join('\n')}\n`;
}
