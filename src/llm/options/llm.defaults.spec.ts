import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { LLM_DEFAULTS } from './llm.defaults';

/** The option interfaces, and where their fields sit in {@link LLM_DEFAULTS}. */
const DOCUMENTED: Record<string, Record<string, string>> = {
  '../llm-module.options.ts': {
    LlmRetryOptions: 'retry',
    LlmBreakerOptions: 'breaker',
    LlmBulkheadOptions: 'bulkhead',
    LlmTimeoutOptions: 'timeouts',
    LlmUpstreamOptions: 'upstream',
    LlmModuleOptions: '',
  },
  '../limits/llm-limits.options.ts': { LlmLimitOptions: 'limits', LlmRedisOptions: 'redis' },
  '../observability/events/llm-events.options.ts': {
    LlmEventsOptions: 'events',
    LlmElasticsearchEventsOptions: 'events.elasticsearch',
  },
  '../jobs/llm-jobs.options.ts': { LlmJobsOptions: 'jobs' },
};

/** A literal `@default` (number, quoted string, boolean); prose defaults are not compared. */
function literalOf(text: string): unknown {
  const token = /^('[^']*'|-?\d[\d_]*(\.\d+)?|true|false)(\s|$)/.exec(text.trim())?.[1];
  if (token === undefined) return undefined;
  if (token.startsWith("'")) return token.slice(1, -1);
  if (token === 'true' || token === 'false') return token === 'true';
  return Number(token.replace(/_/g, ''));
}

/** Every field's literal `@default`, by its path in the defaults tree. */
function documentedDefaults(): Map<string, unknown> {
  const found = new Map<string, unknown>();
  const visit = (members: ts.NodeArray<ts.TypeElement>, at: string) => {
    for (const member of members) {
      if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
      const path = at === '' ? member.name.text : `${at}.${member.name.text}`;
      for (const tag of ts.getJSDocTags(member)) {
        if (tag.tagName.text !== 'default') continue;
        const value = literalOf(ts.getTextOfJSDocComment(tag.comment) ?? '');
        if (value !== undefined) found.set(path, value);
      }
      if (member.type && ts.isTypeLiteralNode(member.type)) visit(member.type.members, path);
    }
  };
  for (const [file, roots] of Object.entries(DOCUMENTED)) {
    const text = readFileSync(join(__dirname, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (ts.isInterfaceDeclaration(statement) && statement.name.text in roots) {
        visit(statement.members, roots[statement.name.text]!);
      }
    }
  }
  return found;
}

/** Every leaf of the defaults tree, by its path. */
function leaves(node: object, at = ''): Array<[string, unknown]> {
  return Object.entries(node as Record<string, unknown>).flatMap(
    ([key, value]): Array<[string, unknown]> => {
      const path = at === '' ? key : `${at}.${key}`;
      return typeof value === 'object' && value !== null ? leaves(value, path) : [[path, value]];
    },
  );
}

describe('LLM_DEFAULTS, the one defaults tree', () => {
  const documented = documentedDefaults();

  it.each(leaves(LLM_DEFAULTS))('%s is documented with the same @default', (path, value) => {
    expect(documented.get(path)).toBe(value);
  });

  it('documents no literal default the tree does not hold', () => {
    const paths = new Set(leaves(LLM_DEFAULTS).map(([path]) => path));
    expect([...documented.keys()].filter((path) => !paths.has(path))).toEqual([]);
  });
});
