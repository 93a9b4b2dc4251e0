import { readEvents } from './events-options.resolver';
import { LLM_DEFAULTS } from './llm.defaults';
import { OptionChecks } from './option-checks';

function resolveEventsOptions(events: unknown) {
  const checks = new OptionChecks();
  const resolved = readEvents(events, checks);
  if (checks.problems.length > 0) throw new Error(checks.problems.join('\n'));
  return resolved;
}

function problemsOf(events: unknown): readonly string[] {
  const checks = new OptionChecks();
  readEvents(events, checks);
  if (checks.problems.length === 0) throw new Error('expected problems');
  return checks.problems;
}

describe('resolveEventsOptions', () => {
  it('turns everything off by default', () => {
    expect(resolveEventsOptions(undefined)).toEqual({ log: false });
  });

  it('fills in the documented defaults and names the data stream', () => {
    const { elasticsearch } = resolveEventsOptions({ elasticsearch: { node: 'http://es:9200' } });
    expect(elasticsearch).toEqual({
      ...LLM_DEFAULTS.events.elasticsearch,
      node: 'http://es:9200',
      dataStream: 'logs-llm.calls-default',
    });
  });

  it('accepts an API key or a username and password', () => {
    const node = 'https://es:9200';
    expect(
      resolveEventsOptions({ elasticsearch: { node, auth: { apiKey: 'k' } } }).elasticsearch?.auth,
    ).toEqual({ apiKey: 'k' });
    expect(
      resolveEventsOptions({ elasticsearch: { node, auth: { username: 'u', password: 'p' } } })
        .elasticsearch?.auth,
    ).toEqual({ username: 'u', password: 'p' });
  });

  it.each([
    [{ node: 'localhost:9200' }, "events.elasticsearch.node must be the cluster's http(s) URL"],
    [
      { node: 'http://es', auth: { username: 'elastic' } },
      'events.elasticsearch.auth must be { apiKey } or { username, password }',
    ],
    [
      { node: 'http://es', auth: { apiKey: 'k', username: 'u', password: 'p' } },
      'events.elasticsearch.auth must be',
    ],
    [
      { node: 'http://es', dataset: 'llm-calls' },
      "events.elasticsearch.dataset must be 1 to 100 characters of a-z, 0-9, '_' and '.'",
    ],
    [{ node: 'http://es', namespace: 'Prod' }, 'events.elasticsearch.namespace must be'],
    [
      { node: 'http://es', retentionDays: 0 },
      'events.elasticsearch.retentionDays must be a whole number ≥ 1, got 0',
    ],
    [
      { node: 'http://es', maxBulkEvents: 20, maxBufferedEvents: 10 },
      'maxBulkEvents (20) must not exceed maxBufferedEvents (10)',
    ],
    [{ node: 'http://es', flushMs: 5 }, 'events.elasticsearch.flushMs is not an option'],
    [{ node: '' }, 'events.elasticsearch.node is empty — is the environment variable'],
  ])('rejects %j naming the field', (elasticsearch, message) => {
    const problems = problemsOf({ elasticsearch });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('never echoes credentials, not even those embedded in a malformed node URL', () => {
    const problems = problemsOf({
      elasticsearch: { node: 'elastic:hunter2@es', auth: { apiKey: 'secret-key', username: 'u' } },
    });
    expect(problems.join()).not.toMatch(/hunter2|secret-key/);
    expect(problems).toHaveLength(2);
  });
});
