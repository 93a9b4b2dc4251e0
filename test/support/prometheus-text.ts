/** One sample line of the Prometheus text format. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses a Prometheus text exposition (what `GET /metrics` serves) into samples, and keeps the
 * `# TYPE` lines, so tests assert on series and values rather than on label order.
 */
export class PromText {
  readonly samples: PromSample[] = [];
  readonly types = new Map<string, string>();

  constructor(readonly text: string) {
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) this.types.set(type[1]!, type[2]!);
      const match = line.startsWith('#') ? null : SAMPLE.exec(line.trim());
      if (!match) continue;
      const labels: Record<string, string> = {};
      for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
        labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
      this.samples.push({ name: match[1]!, labels, value: Number(match[3]) });
    }
  }

  /** Samples of `name` whose labels include `subset`. */
  find(name: string, subset: Record<string, string> = {}): PromSample[] {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(subset).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** Sum of the matching samples (0 when none matches). */
  sum(name: string, subset: Record<string, string> = {}): number {
    return this.find(name, subset).reduce((total, s) => total + s.value, 0);
  }

  /** The value of the one sample matching, or undefined when none does. */
  value(name: string, subset: Record<string, string>): number | undefined {
    const found = this.find(name, subset);
    if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
    return found[0]?.value;
  }
}
