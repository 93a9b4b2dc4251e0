import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { durationMs, shortenRuleWindows } from './support/short-window-rules';

// The alerting e2e test runs deploy/prometheus/alerts.yml with its windows divided by 50. This
// checks that the copy differs from production in its durations only, so a rule the e2e test
// passes is the rule that ships.
const RULES = join(__dirname, '..', 'deploy', 'prometheus', 'alerts.yml');
const source = readFileSync(RULES, 'utf8');
const { yaml, changes } = shortenRuleWindows(source, 50);
type Rule = { record?: string; alert?: string; expr: string; for?: string };
const rulesOf = (text: string): Rule[] =>
  (parse(text) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('alert rules with shortened windows (test/support/short-window-rules.ts)', () => {
  it('divides every window and `for` by the factor', () => {
    const byFrom = new Map(changes.map((c) => [c.from, c.to]));
    expect(Object.fromEntries(byFrom)).toEqual(
      expect.objectContaining({ '5m': '6s', '2m': '2400ms', '1h': '72s', '6h': '432s' }),
    );
    for (const { from, to } of changes) expect(durationMs(to)).toBe(durationMs(from) / 50);
    // No production window is left in an expression.
    for (const rule of rulesOf(yaml)) expect(rule.expr).not.toMatch(/\[\d+(?:[hdwy]|m(?!s))/);
  });

  it('changes nothing but durations: same rules, same order, same thresholds', () => {
    const production = rulesOf(source);
    const shortened = rulesOf(yaml);
    expect(shortened.map((r) => r.record ?? r.alert)).toEqual(
      production.map((r) => r.record ?? r.alert),
    );
    const withoutDurations = (expr: string) => expr.replace(/\[[^\]]*\]/g, '[…]');
    expect(shortened.map((r) => withoutDurations(r.expr))).toEqual(
      production.map((r) => withoutDurations(r.expr)),
    );
    expect(shortened.filter((r) => r.for).length).toBe(production.filter((r) => r.for).length);
  });

  it('shortens subqueries and offsets too, and leaves regex brackets alone', () => {
    const rule = (expr: string) =>
      `groups:\n  - name: g\n    rules:\n      - record: r\n        expr: '${expr}'\n`;
    const expr = 'max_over_time(rate(x[5m])[30m:1m]) offset 1h and y{a=~"[a-z]+"} and z[1h:]';
    expect(rulesOf(shortenRuleWindows(rule(expr), 60).yaml)[0]?.expr).toBe(
      'max_over_time(rate(x[5s])[30s:1s]) offset 60s and y{a=~"[a-z]+"} and z[60s:]',
    );
  });

  it('is a valid rule file for promtool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'short-rules-'));
    try {
      writeFileSync(join(dir, 'alerts.yml'), yaml);
      const { stdout } = await promisify(execFile)('promtool', [
        'check',
        'rules',
        join(dir, 'alerts.yml'),
      ]);
      expect(stdout).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
