import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';

// Code in docs compiles: each ```ts block of these chapters is type-checked as its own module,
// with `nestjs-resilient-llm` resolved to this repository's public barrel.
const ROOT = resolve(__dirname, '..');
const CHAPTERS = ['docs/microservices.md'];

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

describe('code in the docs', () => {
  it.each(CHAPTERS)(
    '%s: every ts block type-checks against the public API',
    (chapter) => {
      const blocks = tsBlocks(readFileSync(join(ROOT, chapter), 'utf8'));
      expect(blocks.length).toBeGreaterThan(0);
      // Inside the repository, so node_modules resolve as for the sources.
      const dir = mkdtempSync(join(ROOT, 'test', '.docs-'));
      try {
        const files = blocks.map((code, i) => {
          const file = join(dir, `block-${i}.ts`);
          writeFileSync(file, code);
          return file;
        });
        const config = ts.getParsedCommandLineOfConfigFile(
          join(ROOT, 'tsconfig.json'),
          {},
          { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
        )!;
        const program = ts.createProgram(files, {
          ...config.options,
          noEmit: true,
          baseUrl: ROOT,
          paths: { 'nestjs-resilient-llm': ['src/llm/index.ts'] },
        });
        const errors = ts
          .getPreEmitDiagnostics(program)
          .filter((d) => d.file && files.includes(resolve(d.file.fileName)))
          .map((d) => {
            const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
            const block = files.indexOf(resolve(d.file!.fileName));
            return `block ${block} line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
          });
        expect(errors).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
