import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimStep } from '../../src/simulator/simulator.types';
import { startSimulatorProcess } from '../support/simulator-process';
import { SimulatorControl } from '../support/simulator.control';
import type { GatewaySample } from './gateway-probe';
import { readSoakConfig, type SoakConfig } from './soak.config';
import { startSoakGateway, type SoakGateway } from './soak-gateway.process';
import { openSilentClients } from './silent-clients';
import { type Fate, type RequestKind, send, tally } from './soak-traffic';

/** Settings of the soaked gateway: short waits, so faults come and go within the run. */
const GATEWAY_ENV = {
  LLM_RETRY_BASE_MS: '50',
  LLM_RETRY_MAX_MS: '500',
  LLM_ATTEMPT_TIMEOUT_MS: '2000',
  LLM_FIRST_CHUNK_TIMEOUT_MS: '2000',
  LLM_IDLE_TIMEOUT_MS: '2000',
  LLM_TOTAL_TIMEOUT_MS: '8000',
  LLM_BREAKER_HALF_OPEN_MS: '2000',
  GATEWAY_SHUTDOWN_DELAY_MS: '500',
};

/** The traffic mix of the soak phase, by weight. */
const MIX: [RequestKind, number][] = [
  ['plain', 60],
  ['stream', 20],
  ['slow-reader', 5],
  ['nested', 5],
  ['form-post', 4],
  ['crlf-model', 4],
  ['long-model', 2],
];

/** Faults injected in turn, one every 15 s. */
const FAULTS: (SimStep[] | { outageMs: number })[] = [
  [{ type: 'error', status: 503, repeat: 8 }],
  [{ type: 'reset', repeat: 4 }],
  [{ type: 'error', status: 429, headers: { 'retry-after-ms': '200' }, repeat: 5 }],
  { outageMs: 3000 },
  [{ type: 'hang', repeat: 2 }],
  [{ type: 'malformed', repeat: 3 }],
];

const MB = 1024 * 1024;
const lines: string[] = [];
const say = (line = ''): void => {
  lines.push(line);
  console.log(line);
};

/**
 * `npm run soak`: the gateway as an attacker and an orchestrator would treat it, bounded (3
 * minutes of mixed traffic by default, SOAK_SECONDS to change) and loopback only. Phases: hostile
 * requests (deep nesting, 2 MB model names), mixed traffic under rotating upstream faults with a
 * liveness probe, then SIGTERM with calls in flight, against a slow and then a hanging upstream.
 * It prints the gateway's heap after GC, handles and event-loop delay, and every request's fate;
 * results go to bench/results/soak.md. Numbers are reported, never an exit code.
 */
async function main(): Promise<void> {
  const config = readSoakConfig(process.env, path.join(__dirname, '..', 'results'));
  const sim = await startSimulatorProcess();
  const control = new SimulatorControl(sim.baseUrl);
  try {
    await control.configure({ latencyMs: 50 });
    const gateway = await startSoakGateway({ ...GATEWAY_ENV, LLM_BASE_URL: sim.baseUrl });
    try {
      const idle = await gateway.sample();
      say(`# Soak of the gateway (${new Date().toISOString()})`);
      say();
      say(`Idle after boot: ${describe(idle)}`);
      await hostileInput(gateway, control, config, idle);
      await mixedTraffic(gateway, control, config, idle);
    } finally {
      await gateway.stop();
    }
    await drainSlow(sim.baseUrl, control, config);
    await drainHanging(sim.baseUrl, control);
  } finally {
    await sim.close();
  }
  mkdirSync(config.outDir, { recursive: true });
  writeFileSync(path.join(config.outDir, 'soak.md'), `${lines.join('\n')}\n`);
  console.log(`\nResults: ${path.relative(process.cwd(), path.join(config.outDir, 'soak.md'))}`);
}

async function hostileInput(
  gateway: SoakGateway,
  control: SimulatorControl,
  config: SoakConfig,
  idle: GatewaySample,
): Promise<void> {
  const before = (await control.requests()).count;
  const nested: Fate[] = [];
  for (let i = 0; i < 30; i++) nested.push(await send(gateway.url, 'nested'));
  const normal = await Promise.all(Array.from({ length: 20 }, () => send(gateway.url, 'plain')));
  const upstreamSaw = (await control.requests()).count - before;
  const health = await fetch(`${gateway.url}/health`);
  say();
  say('## Hostile input');
  say();
  say(
    `- 30 requests nested 6,000 deep: ${summary(nested)}; slowest ${max(nested)} ms. ` +
      `Then 20 normal calls: ${summary(normal)}. The upstream saw ${upstreamSaw} request(s) ` +
      `(the 20 normal ones); GET /health ${health.status} (503 would mean an open breaker).`,
  );
  const long: Fate[] = [];
  for (let i = 0; i < config.longModels; i += 4) {
    const batch = Math.min(4, config.longModels - i);
    long.push(
      ...(await Promise.all(Array.from({ length: batch }, () => send(gateway.url, 'long-model')))),
    );
  }
  const after = await gateway.sample();
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  say(
    `- ${config.longModels} requests with 2 MB model names: ${summary(long)}. Heap after GC ` +
      `${mb(idle.heapUsed)} -> ${mb(after.heapUsed)} (${percent(after.heapUsed, idle.heapUsed)}); ` +
      `/metrics ${(metrics.length / 1024).toFixed(0)} KiB.`,
  );
}

async function mixedTraffic(
  gateway: SoakGateway,
  control: SimulatorControl,
  config: SoakConfig,
  idle: GatewaySample,
): Promise<void> {
  const fates: Promise<Fate>[] = [];
  const samples: GatewaySample[] = [];
  const live = { probes: 0, failed: 0, slowestMs: 0 };
  const endAt = Date.now() + config.seconds * 1000;
  // Held through the phase: the server's header and request timeouts must close them all.
  const silent = openSilentClients(gateway.url, 200);
  const probe = (async () => {
    while (Date.now() < endAt) {
      const started = Date.now();
      const ok = await fetch(`${gateway.url}/health/live`).then(
        (r) => r.ok,
        () => false,
      );
      live.probes++;
      if (!ok) live.failed++;
      live.slowestMs = Math.max(live.slowestMs, Date.now() - started);
      await sleep(500);
    }
  })();
  let nextFault = Date.now() + 15_000;
  let nextSample = Date.now() + 10_000;
  let faultIndex = 0;
  const weights = MIX.reduce((sum, [, w]) => sum + w, 0);
  for (let sent = 0; Date.now() < endAt; sent++) {
    let pick = (sent * 7919) % weights;
    const kind = MIX.find(([, w]) => (pick -= w) < 0)![0];
    fates.push(send(gateway.url, kind));
    if (Date.now() >= nextFault) {
      const fault = FAULTS[faultIndex++ % FAULTS.length]!;
      if ('outageMs' in fault) await control.outage({ durationMs: fault.outageMs });
      else await control.script(fault);
      nextFault += 15_000;
    }
    if (Date.now() >= nextSample) {
      samples.push(await gateway.sample());
      nextSample += 10_000;
    }
    await sleep(1000 / config.rps);
  }
  await probe;
  const silentClosed = silent.closedByServer();
  silent.destroy();
  const settled = await Promise.all(fates);
  await sleep(6_000); // keep-alive sockets of the load time out
  const end = await gateway.sample();
  const output = gateway.output();
  const forged = output.split('\n').filter((l) => l.startsWith('[Nest] 1 - LOG forged')).length;
  const first = samples[0] ?? end;
  const last = samples.at(-1) ?? end;
  say();
  say(`## Mixed traffic: ${config.seconds} s at ${config.rps} requests/s under rotating faults`);
  say();
  say(`Every request accounted for: ${settled.length} sent, ${settled.length} with a fate.`);
  say();
  say('| request: outcome | count |');
  say('|---|---:|');
  for (const [key, count] of tally(settled)) say(`| ${key} | ${count} |`);
  say();
  say(
    `- Heap after GC under load: ${mb(first.heapUsed)} at the first sample, ${mb(last.heapUsed)} at ` +
      `the last (${percent(last.heapUsed, first.heapUsed)}); idle ${mb(idle.heapUsed)} before, ` +
      `${mb(end.heapUsed)} after.`,
  );
  say(
    `- Handles: ${idle.handles} idle before, ${samples.map((s) => s.handles).join(', ')} under load, ${end.handles} idle after.`,
  );
  say(
    `- Event-loop delay p99 per 10 s: ${samples.map((s) => s.eldP99Ms.toFixed(0)).join(', ')} ms; ` +
      `worst max ${Math.max(...samples.map((s) => s.eldMaxMs)).toFixed(0)} ms.`,
  );
  say(
    `- Liveness: ${live.probes - live.failed}/${live.probes} answered, slowest ${live.slowestMs} ms.`,
  );
  say(`- Gateway log: ${output.split('\n').length} lines, ${forged} forged line(s).`);
  say(
    `- 200 silent or half-sent connections opened at the start: ${silentClosed} closed by the ` +
      `server by the end (header timeout 10 s, request timeout 30 s, checked every 30 s by Node).`,
  );
}

/** SIGTERM with 20 plain calls and 5 streams in flight against a slow upstream. */
async function drainSlow(
  baseUrl: string,
  control: SimulatorControl,
  config: SoakConfig,
): Promise<void> {
  await control.reset();
  await control.configure({ latencyMs: config.upstreamMs });
  const gateway = await startSoakGateway({
    ...GATEWAY_ENV,
    LLM_BASE_URL: baseUrl,
    LLM_ATTEMPT_TIMEOUT_MS: '30000',
    LLM_FIRST_CHUNK_TIMEOUT_MS: '30000',
    LLM_TOTAL_TIMEOUT_MS: '60000',
    LLM_DRAIN_TIMEOUT_MS: '10000',
  });
  try {
    const calls = [
      ...Array.from({ length: 20 }, () => send(gateway.url, 'plain')),
      ...Array.from({ length: 5 }, () => send(gateway.url, 'stream')),
    ];
    while ((await control.requests()).count < 25) await sleep(20);
    const logBefore = gateway.output().length;
    const exitMs = await gateway.terminate();
    const fates = await Promise.all(calls);
    const transitions = (
      gateway
        .output()
        .slice(logBefore)
        .match(/Circuit for upstream/g) ?? []
    ).length;
    say();
    say(
      `## SIGTERM with 20 calls and 5 streams in flight (upstream takes ${config.upstreamMs} ms)`,
    );
    say();
    say(
      `- ${summary(fates)}; ${transitions} breaker transition(s); upstream requests ` +
        `${(await control.requests()).count}; exit ${exitMs} ms after SIGTERM (drain timeout 10,000 ms, ` +
        `accept delay 500 ms).`,
    );
  } finally {
    await gateway.stop();
  }
}

/** SIGTERM with calls held by a hanging upstream: they end at the drain timeout. */
async function drainHanging(baseUrl: string, control: SimulatorControl): Promise<void> {
  await control.reset();
  await control.script([{ type: 'hang', repeat: 6 }]);
  const gateway = await startSoakGateway({
    ...GATEWAY_ENV,
    LLM_BASE_URL: baseUrl,
    LLM_ATTEMPT_TIMEOUT_MS: '30000',
    LLM_FIRST_CHUNK_TIMEOUT_MS: '30000',
    LLM_TOTAL_TIMEOUT_MS: '60000',
    LLM_DRAIN_TIMEOUT_MS: '3000',
  });
  try {
    const calls = [
      ...Array.from({ length: 5 }, () => send(gateway.url, 'plain')),
      send(gateway.url, 'stream'),
    ];
    while ((await control.requests()).count < 6) await sleep(20);
    const exitMs = await gateway.terminate();
    const fates = await Promise.all(calls);
    say();
    say('## SIGTERM with 6 calls held by a hanging upstream');
    say();
    say(
      `- ${summary(fates)}; upstream requests ${(await control.requests()).count} (6 before SIGTERM); ` +
        `exit ${exitMs} ms after SIGTERM (drain timeout 3,000 ms).`,
    );
  } finally {
    await gateway.stop();
  }
}

function summary(fates: readonly Fate[]): string {
  const counts = new Map<string, number>();
  for (const fate of fates) counts.set(fate.outcome, (counts.get(fate.outcome) ?? 0) + 1);
  return [...counts.entries()].map(([outcome, n]) => `${n}× ${outcome}`).join(', ');
}

const max = (fates: readonly Fate[]) => Math.max(...fates.map((f) => f.ms));
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const percent = (now: number, start: number) =>
  `${now >= start ? '+' : ''}${(((now - start) / start) * 100).toFixed(1)} %`;
const describe = (s: GatewaySample) =>
  `heap after GC ${mb(s.heapUsed)}, RSS ${mb(s.rss)}, ${s.handles} handles`;

main().catch((error: unknown) => {
  console.error('The soak failed:', error);
  process.exitCode = 1;
});
