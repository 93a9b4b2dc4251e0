import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as ts from 'typescript';

/*
 * Code in the docs compiles. Every ```ts / ```typescript block of README.md and docs/**\/*.md is
 * type-checked under the repository's tsconfig (strict, noUncheckedIndexedAccess), all in one
 * program, with `nestjs-resilient-llm` resolved to src/llm/index.ts and
 * `nestjs-resilient-llm/testing` to the simulator's barrel.
 *
 * A block is a whole module unless its info string marks it as a fragment, which is then wrapped
 * in the context it needs, never skipped:
 *
 *   ```ts fragment=statements      statements, inside `async function (): Promise<void> { ... }`
 *   ```ts fragment=members         class members, inside `class { ... }`
 *   ```ts fragment=object:<Type>   object properties, inside `const x: <Type> = { ... }`
 *
 * A fragment sees every name the package root exports, plus what an HTML comment right above the
 * block declares (hidden when rendered; for `members`, its text goes inside the class):
 *
 *   <!-- context: import { Controller } from '@nestjs/common'; declare const llm: LlmClient; -->
 *
 * `<!-- file: support.service.ts -->` above a block names its file, so a later block of the same
 * markdown file can `import { SupportService } from './support.service'`. `./app.module` is an
 * empty `AppModule` unless a block of the chapter is named app.module.ts.
 */

const ROOT = resolve(__dirname, '..');
const PACKAGE_ROOT = 'src/llm/index.ts';
// i10-pkg adds the barrel of the testing subpath; until then the simulator's own file.
const TESTING_ROOT = existsSync(join(ROOT, 'src/simulator/index.ts'))
  ? 'src/simulator/index.ts'
  : 'src/simulator/upstream-simulator.ts';

type Wrap =
  | { kind: 'module' }
  | { kind: 'statements' }
  | { kind: 'members' }
  | { kind: 'object'; type: string };

interface DocBlock {
  /** Markdown file, relative to the repository. */
  file: string;
  /** 1-based line of the block's first code line in the markdown. */
  line: number;
  code: string;
  wrap: Wrap;
  context: string;
  /** `<!-- file: name.ts -->`: the block's file name, so later blocks can import it. */
  name: string | undefined;
}

interface CheckedBlock extends DocBlock {
  path: string;
  source: string;
  /** Lines the wrapper puts before the block's first line. */
  offset: number;
}

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', ...walk('docs').sort()];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/;

function parseWrap(info: string, where: string): Wrap {
  const fragment = /(?:^|\s)fragment(?:=(\S+))?/.exec(info);
  if (!fragment) return { kind: 'module' };
  const value = fragment[1] ?? 'statements';
  if (value === 'statements' || value === 'members') return { kind: value };
  const object = /^object:(.+)$/.exec(value);
  if (object) return { kind: 'object', type: object[1]! };
  throw new Error(`${where}: unknown fragment kind '${value}'`);
}

/** The ts blocks of one markdown file, with their wrapping and context. */
function docBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang, info] = open as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++;
    if (lang === 'ts' || lang === 'typescript') {
      const code = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
        .join('\n');
      const comments = commentsAbove(lines, i);
      blocks.push({
        file,
        line: i + 2,
        code,
        wrap: parseWrap(info, `${file}:${i + 1}`),
        context: commentValue(comments, 'context') ?? '',
        name: commentValue(comments, 'file'),
      });
    }
    i = end;
  }
  return blocks;
}

/** The HTML comments right above line `i` (blank lines between allowed), as one text. */
function commentsAbove(lines: string[], i: number): string {
  const comments: string[] = [];
  let last = i - 1;
  for (;;) {
    while (last >= 0 && lines[last]!.trim() === '') last--;
    if (last < 0 || !lines[last]!.trim().endsWith('-->')) break;
    let first = last;
    while (first >= 0 && !lines[first]!.includes('<!--')) first--;
    if (first < 0) break;
    comments.unshift(lines.slice(first, last + 1).join('\n'));
    last = first - 1;
  }
  return comments.join('\n');
}

function commentValue(comments: string, key: 'context' | 'file'): string | undefined {
  return new RegExp(`<!--\\s*${key}:([\\s\\S]*?)-->`).exec(comments)?.[1]?.trim();
}

/** Every name src/llm/index.ts exports, for the imports fragments get. */
function publicNames(): string[] {
  const file = join(ROOT, PACKAGE_ROOT);
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.exportClause) continue;
    if (!ts.isNamedExports(statement.exportClause)) continue;
    for (const element of statement.exportClause.elements) names.push(element.name.text);
  }
  return names;
}

function wrapped(block: DocBlock, index: number, names: string[]): CheckedBlock {
  // One folder per markdown file: a block named `support.service.ts` is `./support.service` there.
  const folder = join(ROOT, 'test', '.docs-code', block.file.replace(/[^\w.-]/g, '_'));
  const path = join(folder, block.name ?? `block-${index}.ts`);
  if (block.wrap.kind === 'module') {
    const head = block.context ? `${block.context}\n` : '';
    return {
      ...block,
      path,
      source: `${head}${block.code}\nexport {};\n`,
      offset: lineCount(head),
    };
  }
  const imports = `import { ${names.join(', ')} } from 'nestjs-resilient-llm';\n`;
  const [before, after] = wrapper(block);
  const head = `${imports}${before}`;
  return { ...block, path, source: `${head}${block.code}\n${after}`, offset: lineCount(head) };
}

function wrapper(block: DocBlock): [string, string] {
  const context = block.context ? `${block.context}\n` : '';
  switch (block.wrap.kind) {
    case 'statements':
      return [`${context}export async function docBlock(): Promise<void> {\n`, '}\n'];
    case 'members':
      return [`export class DocBlock {\n${context}`, '}\n'];
    case 'object':
      return [`${context}export const docBlock: ${block.wrap.type} = {\n`, '};\n'];
    case 'module':
      return ['', ''];
  }
}

function lineCount(text: string): number {
  return text === '' ? 0 : text.split('\n').length - 1;
}

const APP_MODULE_STUB = `import { Module } from '@nestjs/common';
@Module({})
export class AppModule {}
`;

/** Type-checks every block in one program; returns one line per error, pointing into the markdown. */
function typeCheck(blocks: CheckedBlock[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  )!;
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    baseUrl: ROOT,
    paths: {
      'nestjs-resilient-llm': [PACKAGE_ROOT],
      'nestjs-resilient-llm/testing': [TESTING_ROOT],
    },
  };
  const virtual = new Map<string, { source: string }>(blocks.map((block) => [block.path, block]));
  // `import { AppModule } from './app.module'` works in every chapter: an empty module, unless a
  // block of that chapter is named app.module.ts.
  for (const folder of new Set(blocks.map((block) => dirname(block.path)))) {
    const path = join(folder, 'app.module.ts');
    if (!virtual.has(path)) virtual.set(path, { source: APP_MODULE_STUB });
  }
  const disk = ts.createCompilerHost(options, true);
  const folders = new Set([...virtual.keys()].map((path) => dirname(path)));
  const host: ts.CompilerHost = {
    ...disk,
    directoryExists: (dir) => folders.has(resolve(dir)) || ts.sys.directoryExists(dir),
    fileExists: (file) => virtual.has(resolve(file)) || disk.fileExists(file),
    readFile: (file) => virtual.get(resolve(file))?.source ?? disk.readFile(file),
    getSourceFile: (file, language, onError, create) => {
      const block = virtual.get(resolve(file));
      if (block) return ts.createSourceFile(file, block.source, language, true);
      return disk.getSourceFile(file, language, onError, create);
    },
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const errors: string[] = [];
  for (const block of blocks) {
    const source = program.getSourceFile(block.path)!;
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const d of diagnostics) {
      const { line } = source.getLineAndCharacterOfPosition(d.start ?? 0);
      const inBlock = line - block.offset;
      const where =
        inBlock >= 0 && inBlock < lineCount(`${block.code}\n`)
          ? `${block.file}:${block.line + inBlock}`
          : `${block.file}:${block.line} (wrapper or context)`;
      errors.push(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
  }
  return errors;
}

// A deliberately wrong fragment, checked in the same program: the harness must report it, at its line.
const SAMPLE = [
  '<!-- context: declare const llm: LlmClient; -->',
  '',
  '```ts fragment',
  'const n: number = await llm.chat({ messages: [] });',
  '```',
].join('\n');

describe('code in the docs', () => {
  const files = markdownFiles();
  const blocks = files.flatMap((file) => docBlocks(file, readFileSync(join(ROOT, file), 'utf8')));
  const sample = docBlocks('sample.md', SAMPLE);
  let errors: string[] = [];

  beforeAll(() => {
    const names = publicNames();
    // One program for every block: a program per block would take minutes.
    errors = typeCheck([...blocks, ...sample].map((block, i) => wrapped(block, i, names)));
  }, 120_000);

  it('finds the TypeScript blocks of the README and of docs/', () => {
    const chapters = new Set(blocks.map((block) => block.file));
    expect(chapters).toContain('README.md');
    expect(chapters).toContain('docs/microservices.md');
    expect(blocks.length).toBeGreaterThan(10);
  });

  it('wraps a fragment in its context and points errors into the markdown', () => {
    expect(sample).toMatchObject([{ line: 4, wrap: { kind: 'statements' } }]);
    const sampleErrors = errors.filter((error) => error.startsWith('sample.md'));
    expect(sampleErrors).toHaveLength(1);
    expect(sampleErrors[0]).toMatch(
      /^sample\.md:4: Type 'LlmChatResult' is not assignable to type 'number'/,
    );
  });

  it(`every ts block type-checks under strict against the public API (${TESTING_ROOT} for /testing)`, () => {
    expect(errors.filter((error) => !error.startsWith('sample.md'))).toEqual([]);
  });
});
