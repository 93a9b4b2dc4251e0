import { type BufferedEvent, EventBuffer } from './event.buffer';

const event = (n: number, bytes = 10): BufferedEvent => ({
  id: `e${n}`,
  line: 'x'.repeat(bytes),
  bytes,
});
const ids = (events: BufferedEvent[]) => events.map((e) => e.id);

describe('EventBuffer', () => {
  it('refuses the newest event past the count bound, keeping the older ones', () => {
    const buffer = new EventBuffer(2, 1_000);
    expect([1, 2, 3].map((n) => buffer.push(event(n)))).toEqual([true, true, false]);
    expect(ids(buffer.take(10))).toEqual(['e1', 'e2']);
  });

  it('refuses an event that would pass the byte bound, but takes a smaller one after it', () => {
    const buffer = new EventBuffer(10, 25);
    expect(buffer.push(event(1, 10))).toBe(true);
    expect(buffer.push(event(2, 20))).toBe(false);
    expect(buffer.push(event(3, 15))).toBe(true);
    expect(buffer.bytes).toBe(25);
  });

  it('counts events in flight against the bound until their batch is settled', () => {
    const buffer = new EventBuffer(2, 1_000);
    buffer.push(event(1));
    buffer.push(event(2));
    const batch = buffer.take(2);
    expect(buffer.queued).toBe(0);
    expect(buffer.push(event(3))).toBe(false);
    buffer.settle(batch);
    expect(buffer.size).toBe(0);
    expect(buffer.push(event(3))).toBe(true);
  });

  it('puts a retried part of a batch back in front, in order, where it always fits', () => {
    const buffer = new EventBuffer(3, 1_000);
    [1, 2, 3].forEach((n) => buffer.push(event(n)));
    const batch = buffer.take(2);
    buffer.settle(batch, batch);
    expect(buffer.size).toBe(3);
    expect(buffer.bytes).toBe(30);
    expect(ids(buffer.take(3))).toEqual(['e1', 'e2', 'e3']);
  });
});
