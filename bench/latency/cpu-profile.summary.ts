import * as fs from 'node:fs';

/** The parts of a `.cpuprofile` (V8's format, what `--cpu-prof` writes) read here. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

/** Groups a frame's file into the area it belongs to (the rows of the README's breakdown). */
export function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)' || fn === '(program)') return fn;
  if (!url) return 'native / node internals';
  const rules: Array<[RegExp, string]> = [
    [
      /@opentelemetry\/(sdk-trace|instrumentation|core|context|api|sdk-node|resources)/,
      'OpenTelemetry tracing',
    ],
    [/@opentelemetry\/sdk-metrics|@opentelemetry\/exporter-prometheus/, 'OpenTelemetry metrics'],
    [
      /node_modules\/(express|router|body-parser|raw-body|finalhandler|send|serve-static|on-finished|qs|type-is|content-type|mime|iconv-lite|path-to-regexp)/,
      'Express + body parser',
    ],
    [/node_modules\/(fastify|@fastify|find-my-way|light-my-request|avvio|pino)/, 'Fastify'],
    [/@nestjs\/platform-express/, 'Nest platform-express'],
    [/@nestjs\/platform-fastify/, 'Nest platform-fastify'],
    [/@nestjs\/(core|common)/, 'Nest core (router, interceptors, pipes)'],
    [
      /node_modules\/(axios|follow-redirects|form-data|proxy-from-env)|@nestjs\/axios/,
      'axios transport',
    ],
    [/node_modules\/rxjs/, 'rxjs'],
    [/node_modules\/cockatiel/, 'cockatiel policies'],
    // Not `events` alone: that is Node's EventEmitter (node:events), every emitter's cost.
    [/\/llm\/observability\/events\//, 'events (build + log)'],
    [/src\/llm\/observability/, 'observability (spans, metrics attrs)'],
    [/src\/llm\//, 'LlmClient call path'],
    [/src\/gateway\//, 'gateway code'],
    [
      /node:internal\/(http|_http|net|stream|streams|dns|timers)|node:(http|_http|net|stream)/,
      'node http / net / streams',
    ],
    [/node:/, 'node internals (other)'],
    [/node_modules\/([^/]+)/, 'other packages'],
  ];
  for (const [pattern, area] of rules) if (pattern.test(url)) return area;
  return 'other';
}

const INHERITING = new Set([
  'native / node internals',
  'node internals (other)',
  'node http / net / streams',
]);

/** Self time per area and the top self-time functions of a profile, in % of non-idle time. */
export function summarise(file: string, top = 25): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  // Native and Node-internal frames count towards the nearest caller that is not one: a socket
  // write made for an event line is the events' cost, one made for a response the HTTP layer's.
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const attributed = new Map<number, string>();
  const attribute = (id: number): string => {
    const known = attributed.get(id);
    if (known) return known;
    const { url, functionName } = nodes.get(id)!.callFrame;
    let area = areaOf(url, functionName);
    const up = parent.get(id);
    if (INHERITING.has(area) && up !== undefined) {
      const above = attribute(up).replace(/ \(in node\)$/, '');
      if (!INHERITING.has(above) && !above.startsWith('(')) area = `${above} (in node)`;
    }
    attributed.set(id, area);
    return area;
  };
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (areaOf(url, functionName) === '(idle)') continue;
    const area = attribute(node.id).replace(/ \(in node\)$/, '');
    busy += us;
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const short = url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/');
    const key = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const pct = (us: number) => ((us / busy) * 100).toFixed(1).padStart(5);
  const lines = [`busy ${(busy / 1e3).toFixed(0)} ms`, '', 'self time by area:'];
  for (const [area, us] of [...byArea].sort((a, b) => b[1] - a[1]))
    lines.push(`${pct(us)} %  ${area}`);
  lines.push('', `top ${top} functions (self):`);
  for (const [fn, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`${pct(us)} %  ${fn}`);
  return lines.join('\n');
}

/** The parts of a `.heapprofile` (V8's sampling heap profiler) read here. */
interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/**
 * Bytes allocated per area in a sampling heap profile (what was allocated while profiling and
 * still sampled live when it stopped is not separated: V8 reports sampled allocations), with
 * native frames counted toward their nearest JavaScript caller's area.
 */
export function summariseHeap(file: string, top = 15): string {
  const { head } = JSON.parse(fs.readFileSync(file, 'utf8')) as { head: HeapNode };
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, inherited: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    let area = areaOf(url, functionName);
    if (INHERITING.has(area) && !INHERITING.has(inherited)) area = inherited;
    total += node.selfSize;
    byArea.set(area, (byArea.get(area) ?? 0) + node.selfSize);
    const short = url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/');
    const key = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, area);
  };
  walk(head, 'native / node internals');
  const pct = (n: number) => ((n / total) * 100).toFixed(1).padStart(5);
  const lines = [`sampled allocations ${(total / 2 ** 20).toFixed(1)} MiB`, '', 'by area:'];
  for (const [area, n] of [...byArea].sort((a, b) => b[1] - a[1]))
    lines.push(`${pct(n)} %  ${area}`);
  lines.push('', `top ${top} functions:`);
  for (const [fn, n] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`${pct(n)} %  ${fn}`);
  return lines.join('\n');
}

if (require.main === module) {
  for (const file of process.argv.slice(2)) {
    const text = file.endsWith('.heapprofile') ? summariseHeap(file) : summarise(file);
    console.log(`${file}\n${text}\n`);
  }
}
