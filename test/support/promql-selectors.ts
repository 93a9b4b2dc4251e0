import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** One label matcher of a PromQL selector, e.g. `llm_outcome!~"success|cancelled"`. */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** What a rule expression reads: raw series (not recorded ones) and the labels it groups by. */
export interface ExprReads {
  /** Metric name → the matchers written on it (one entry per selector). */
  selectors: { metric: string; matchers: LabelMatcher[] }[];
  /** Labels named in `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`. */
  groupingLabels: string[];
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

const SELECTOR = /([a-zA-Z_:][\w:]*)?\{([^}]*)\}/g;
const MATCHER = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
// Raw series of this project and Prometheus' own `up`; recorded series contain colons.
const RAW_METRIC = /(?<![\w:])(?:llm_\w+|gen_ai_\w+|up)(?![\w:])/g;

/**
 * Finds the series and labels a PromQL expression reads, with regular expressions that are
 * enough for the rules in deploy/prometheus (no nested braces, no `{__name__=...}` selectors).
 */
export function readsOf(expr: string): ExprReads {
  const selectors: ExprReads['selectors'] = [];
  const groupingLabels: string[] = [];
  for (const [, metric = '', body = ''] of expr.matchAll(SELECTOR)) {
    const matchers = [...body.matchAll(MATCHER)].map(([, label, op, value]) => ({
      label: label!,
      op: op as LabelMatcher['op'],
      value: value!,
    }));
    if (!metric.includes(':')) selectors.push({ metric, matchers });
  }
  for (const [, list = ''] of expr.matchAll(GROUPING)) {
    groupingLabels.push(...list.split(',').map((label) => label.trim()));
  }
  // What is left once matchers and grouping lists are gone: bare metric names.
  const rest = expr.replace(SELECTOR, (_, metric: string | undefined) => metric ?? '');
  const bare = rest.replace(GROUPING, '').match(RAW_METRIC) ?? [];
  for (const metric of bare) {
    if (!selectors.some((s) => s.metric === metric)) selectors.push({ metric, matchers: [] });
  }
  return { selectors, groupingLabels: groupingLabels.filter(Boolean) };
}

/** Every expression of a Prometheus rule file, with the rule's name. */
export function ruleExpressions(path: string): { name: string; expr: string }[] {
  const file = parse(readFileSync(path, 'utf8')) as RuleFile;
  return file.groups.flatMap((group) =>
    group.rules.map((rule) => ({ name: rule.record ?? rule.alert ?? group.name, expr: rule.expr })),
  );
}

/** The values a matcher accepts or refuses, for plain alternations like `a|b|c`. */
export function matcherValues(matcher: LabelMatcher): string[] {
  return matcher.value.split('|').filter(Boolean);
}
