import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FanOutEventSink } from './fan-out-event.sink';
import { LogEventSink, MAX_HELD_TEXT } from './log-event.sink';

const event = (n: number) => ({ 'event.action': 'llm-call', 'llm.attempts': n });
const waitMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LogEventSink', () => {
  it('holds events for its interval, then writes all their lines in one write, in order', async () => {
    const writes: string[] = [];
    const sink = new LogEventSink((lines) => writes.push(lines), 20);
    for (let n = 1; n <= 3; n++) sink.write(event(n));
    expect(writes).toEqual([]);
    await waitMs(60);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split('\n')).toEqual([
      JSON.stringify(event(1)),
      JSON.stringify(event(2)),
      JSON.stringify(event(3)),
      '',
    ]);
  });

  it('serialises a document when it is handed over, and skips and counts one that cannot be', () => {
    const writes: string[] = [];
    const drops: [string, number][] = [];
    const sink = new LogEventSink((lines) => writes.push(lines), 60_000, {
      dropped: (reason, count) => void drops.push([reason, count]),
    });
    const circular: Record<string, unknown> = { 'event.action': 'llm-call' };
    circular.self = circular;
    sink.write(circular);
    const second: Record<string, unknown> = event(2);
    sink.write(second);
    // Serialised already: a change made after `write` is not in the line.
    second['llm.attempts'] = 99;
    sink.flush();
    expect(writes).toEqual([`${JSON.stringify(event(2))}\n`]);
    expect(drops).toEqual([['unserializable', 1]]);
  });

  it('counts the lines of a write that throws as write_failed, and does not throw itself', () => {
    const drops: [string, number][] = [];
    const sink = new LogEventSink(
      () => {
        throw new Error('EPIPE');
      },
      60_000,
      {
        dropped: (reason, count) => {
          drops.push([reason, count]);
          throw new Error('the warn line failed too');
        },
      },
    );
    for (let n = 1; n <= 3; n++) sink.write(event(n));
    expect(() => sink.flush()).not.toThrow();
    expect(drops).toEqual([['write_failed', 3]]);
    sink.write(event(4));
    expect(() => sink.flush()).not.toThrow();
    expect(drops).toEqual([
      ['write_failed', 3],
      ['write_failed', 1],
    ]);
  });

  it('writes a burst of 256 events at once, without waiting for the interval', () => {
    const writes: string[] = [];
    const sink = new LogEventSink((lines) => writes.push(lines), 60_000);
    for (let n = 0; n < 256; n++) sink.write(event(n));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split('\n')).toHaveLength(257);
    sink.write(event(256));
    expect(writes).toHaveLength(1);
    sink.flush();
    expect(writes).toHaveLength(2);
  });

  it('writes at once when the lines held reach 16 KiB, so no write overfills a pipe', () => {
    const writes: string[] = [];
    const sink = new LogEventSink((lines) => writes.push(lines), 60_000);
    const big = { 'event.action': 'llm-call', pad: 'x'.repeat(1000) };
    const perLine = JSON.stringify(big).length + 1;
    const toReach = Math.ceil(MAX_HELD_TEXT / perLine);
    for (let n = 1; n < toReach; n++) sink.write(big);
    expect(writes).toEqual([]);
    sink.write(big);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.length).toBe(toReach * perLine);
    expect(writes[0]!.length).toBeGreaterThanOrEqual(MAX_HELD_TEXT);
    // What follows is held again until the interval or the next 16 KiB.
    sink.write(event(1));
    expect(writes).toHaveLength(1);
    sink.flush();
    expect(writes[1]).toBe(`${JSON.stringify(event(1))}\n`);
  });

  it("writes what it holds on Nest's application shutdown, alone or behind a fan-out", () => {
    const writes: string[] = [];
    const alone = new LogEventSink((lines) => writes.push(`alone ${lines}`), 60_000);
    const fanned = new LogEventSink((lines) => writes.push(`fanned ${lines}`), 60_000);
    const other = { write: jest.fn() };
    const fanOut = new FanOutEventSink([other, fanned]);
    alone.write(event(1));
    fanOut.write(event(2));
    alone.onApplicationShutdown();
    fanOut.onApplicationShutdown();
    expect(writes).toEqual([
      `alone ${JSON.stringify(event(1))}\n`,
      `fanned ${JSON.stringify(event(2))}\n`,
    ]);
    expect(other.write).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['the event loop runs out of work', ''],
    [
      'a SIGTERM handler exits',
      "process.once('SIGTERM', () => process.exit(0)); process.kill(process.pid, 'SIGTERM');",
    ],
  ])('loses no line when the process ends before the interval: %s', (_when, ending) => {
    // A real process: its timer does not keep it alive, and its exit hook writes the lines.
    const script = [
      `const { LogEventSink } = require(${JSON.stringify(join(__dirname, 'log-event.sink.ts'))});`,
      'const sink = new LogEventSink(undefined, 60000);',
      "sink.write({ 'event.action': 'llm-call', 'event.id': 'a' });",
      "sink.write({ 'event.action': 'llm-request', 'event.id': 'b' });",
      'setTimeout(() => {}, 20);',
      ending,
    ].join('\n');
    const child = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      cwd: join(__dirname, '..', '..', '..', '..'),
      encoding: 'utf8',
      env: { ...process.env, SWC_NODE_IGNORE_DYNAMIC: '1' },
      timeout: 10_000,
    });
    expect(child.stderr).toBe('');
    expect(
      child.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([
      { 'event.action': 'llm-call', 'event.id': 'a' },
      { 'event.action': 'llm-request', 'event.id': 'b' },
    ]);
  });
});
