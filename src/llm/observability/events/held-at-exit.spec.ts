import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Runs `body` in a real process (the hook is the process's `exit`) and returns its stdout. */
function runChild(body: string[]): string {
  const script = [
    `const { holdUntilExit, releasedBeforeExit } = require(${JSON.stringify(join(__dirname, 'held-at-exit.ts'))});`,
    ...body,
  ].join('\n');
  const child = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: join(__dirname, '..', '..', '..', '..'),
    encoding: 'utf8',
    env: { ...process.env, SWC_NODE_IGNORE_DYNAMIC: '1' },
    timeout: 10_000,
  });
  expect(child.stderr).toBe('');
  return child.stdout;
}

describe('holdUntilExit', () => {
  it('finishes at exit what is still held, and what a holder hands on to one already finished', () => {
    const stdout = runChild([
      // A sink holding lines, and a recorder that hands its events to the sink when it drains.
      'const lines = [];',
      "const flush = () => process.stdout.write(lines.splice(0).join(''));",
      'const write = (line) => { lines.push(line); holdUntilExit(flush); };',
      "write('held line\\n');",
      "holdUntilExit(() => write('handed on at exit\\n'));",
    ]);
    expect(stdout).toBe('held line\nhanded on at exit\n');
  });

  it('does not run again what was released before the exit', () => {
    const stdout = runChild([
      "const done = () => process.stdout.write('ran\\n');",
      'holdUntilExit(done);',
      'done();',
      'releasedBeforeExit(done);',
    ]);
    expect(stdout).toBe('ran\n');
  });
});
