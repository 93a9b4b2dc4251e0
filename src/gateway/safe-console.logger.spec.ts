import { escapeControl, SafeConsoleLogger } from './safe-console.logger';

/** What the logger writes to stdout and stderr while `fn` runs. */
function written(fn: () => void): string {
  const chunks: string[] = [];
  const original = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = (chunk: unknown) => chunks.push(String(chunk)) > 0;
  process.stderr.write = (chunk: unknown) => chunks.push(String(chunk)) > 0;
  try {
    fn();
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
  return chunks.join('');
}

describe('SafeConsoleLogger', () => {
  const logger = new SafeConsoleLogger('Test', { colors: false });
  const forged = "model 'gpt\r\n[Nest] 1  - 01/01/2026, 00:00:00     LOG [Auth] admin logged in'";

  it('never lets a CR/LF in a logged value start a new line', () => {
    const out = written(() => logger.warn(`POST /v1 -> 502: ${forged}`));
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    expect(out).not.toContain('\r');
    expect(out).toContain('gpt\\r\\n[Nest] 1');
  });

  it('escapes a line break inside an error message in a stack, keeping the frames', () => {
    const stack = `Error: boom ${forged}\n    at handler (file.ts:1:1)\n    at next (file.ts:2:2)`;
    const out = written(() => logger.error('failed', stack));
    const lines = out.split('\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('gpt\\r\\n[Nest] 1');
    expect(lines[2]).toMatch(/^\s+at handler/);
  });

  it('masks URL passwords in every line', () => {
    const out = written(() => logger.log('Redis at redis://app:hunter2@cache:6379 failed'));
    expect(out).toContain('redis://app:***@cache:6379');
    expect(out).not.toContain('hunter2');
  });

  it('escapes other controls, DEL and Unicode line separators by code', () => {
    expect(escapeControl('a\u0000b\u001bc\u007fd\u2028e\tf')).toBe(
      'a\\u0000b\\u001bc\\u007fd\\u2028e\\tf',
    );
  });
});
