import type { LlmModuleOptions, ResolvedLlmOptions, ResolvedUpstream } from '../llm-module.options';
import {
  defaultFeatureExtractor,
  defaultRequestIdExtractor,
  defaultUserIdExtractor,
  type LlmContextExtractor,
} from '../observability/llm-context.extractors';
import { readEvents } from './events-options.resolver';
import { readRedis } from './limits-options.resolver';
import { LLM_DEFAULTS } from './llm.defaults';
import { LlmOptionsError } from './llm-options.error';
import { describe, OptionChecks } from './option-checks';
import { POLICY_SECTIONS } from './policy-options.resolver';
import { checkFallbackTargets, readShared, readUpstream } from './upstream-options.resolver';

const TOP_KEYS = [
  'upstreams',
  'defaultUpstream',
  'defaults',
  'context',
  'serviceName',
  'lastResort',
  'tracing',
  'events',
  'redis',
  'health',
  'drain',
];

/** Keys that belong elsewhere when met at the top level, and where. */
const TOP_ELSEWHERE: Record<string, string> = {
  ...Object.fromEntries([...POLICY_SECTIONS, 'limits'].map((key) => [key, `defaults.${key}`])),
  ...Object.fromEntries(
    ['name', 'baseUrl', 'apiKey', 'defaultModel', 'provider', 'headers', 'fallbacks'].map((key) => [
      key,
      `upstreams[0].${key}`,
    ]),
  ),
  isGlobal: 'isGlobal, beside the options in forRoot or forRootAsync (not inside them)',
};

const EXTRACTOR = '(ExecutionContext) => string | undefined';
const EXTRACTORS = ['userId', 'featureName', 'requestId'] as const;

/**
 * Validates LlmModule options and fills in every default, once, at startup: every section
 * (upstreams, their policies, limits and fallbacks, redis, events, context, health, drain) in one
 * pass, so a boot lists every problem at once, each with its field path.
 *
 * @throws LlmOptionsError listing every problem
 * @example
 * resolveLlmOptions({ upstreams: [{ name: 'openai', baseUrl: 'https://api.openai.com/v1', defaultModel: 'gpt-4o-mini' }] })
 */
export function resolveLlmOptions(
  options: LlmModuleOptions,
  extras: { readonly isGlobal?: unknown } = {},
): ResolvedLlmOptions {
  const checks = new OptionChecks();
  checkIsGlobal(extras.isGlobal, checks);
  const example = "{ upstreams: [{ name: 'openai', baseUrl, apiKey, defaultModel }] }";
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LlmOptionsError([`options must be an object such as ${example}`]);
  }
  const given = checks.section(options, '', TOP_KEYS, example, { elsewhere: TOP_ELSEWHERE })!;
  const shared = readShared(given.defaults, checks);
  const upstreams = readUpstreams(given.upstreams, shared, checks);
  const names = upstreams.map((upstream) => upstream.name);
  const defaultUpstream = checks.text(given.defaultUpstream, 'defaultUpstream') ?? names[0] ?? '';
  if (given.defaultUpstream !== undefined && !names.includes(defaultUpstream)) {
    checks.report(
      'defaultUpstream',
      `'${defaultUpstream}' is not the name of any upstream (${names.join(', ')})`,
    );
  }
  const d = LLM_DEFAULTS;
  const context = checks.section(
    given.context,
    'context',
    ['global', ...EXTRACTORS],
    '{ global: true }',
  );
  const tracing = checks.section(
    given.tracing,
    'tracing',
    ['captureContent'],
    '{ captureContent: false }',
  );
  const health = checks.section(
    given.health,
    'health',
    ['failReadinessWhenOpen'],
    '{ failReadinessWhenOpen: false }',
  );
  const drain = checks.section(given.drain, 'drain', ['timeoutMs'], '{ timeoutMs: 20000 }');
  const resolved: ResolvedLlmOptions = {
    upstreams: new Map(upstreams.map((upstream) => [upstream.name, upstream])),
    defaultUpstream,
    serviceName: checks.text(given.serviceName, 'serviceName') ?? d.serviceName,
    lastResort: checks.func(
      given.lastResort,
      'lastResort',
      '({ request, error, call }) => ChatCompletion',
    ),
    context: {
      global: checks.boolean(context?.global, 'context.global') ?? d.context.global,
      userId: extractor(context, 'userId', checks) ?? defaultUserIdExtractor,
      featureName: extractor(context, 'featureName', checks) ?? defaultFeatureExtractor,
      requestId: extractor(context, 'requestId', checks) ?? defaultRequestIdExtractor,
    },
    tracing: {
      captureContent:
        checks.boolean(tracing?.captureContent, 'tracing.captureContent') ??
        d.tracing.captureContent,
    },
    events: readEvents(given.events, checks),
    health: {
      failReadinessWhenOpen:
        checks.boolean(health?.failReadinessWhenOpen, 'health.failReadinessWhenOpen') ??
        d.health.failReadinessWhenOpen,
    },
    drain: {
      timeoutMs:
        checks.number(drain?.timeoutMs, 'drain.timeoutMs', { min: 0, whole: true }) ??
        d.drain.timeoutMs,
    },
    redis: readRedis(given.redis, checks),
  };
  if (checks.problems.length > 0) throw new LlmOptionsError(checks.problems);
  return resolved;
}

/**
 * `isGlobal` shapes the module as it is declared, before any option is read, so only a real
 * boolean is taken: not even the strings 'true'/'false', as `'false'` (truthy) would have made
 * the module global.
 */
function checkIsGlobal(value: unknown, checks: OptionChecks): void {
  if (value === undefined || typeof value === 'boolean') return;
  const word = typeof value === 'string' ? value.trim().toLowerCase() : '';
  const hint =
    word === 'true' || word === 'false' ? ` (a string: write ${word}, without quotes)` : '';
  checks.report(
    'isGlobal',
    `must be true or false, beside the options in forRoot or forRootAsync; got ${describe(value)}${hint}`,
  );
}

function extractor(
  context: Record<string, unknown> | undefined,
  key: (typeof EXTRACTORS)[number],
  checks: OptionChecks,
): LlmContextExtractor | undefined {
  return checks.func<LlmContextExtractor>(context?.[key], `context.${key}`, EXTRACTOR);
}

function readUpstreams(
  given: unknown,
  shared: ReturnType<typeof readShared>,
  checks: OptionChecks,
): ResolvedUpstream[] {
  if (!Array.isArray(given) || given.length === 0) {
    checks.report(
      'upstreams',
      'must be a non-empty array, e.g. [{ name: "openai", baseUrl: "https://api.openai.com/v1", ' +
        'apiKey, defaultModel: "gpt-4o-mini" }]',
    );
    return [];
  }
  const upstreams = given.map((upstream, i) =>
    readUpstream(upstream, shared, `upstreams[${i}]`, checks),
  );
  upstreams.forEach((upstream, i) => {
    const first = upstreams.findIndex((other) => other.name === upstream.name);
    if (upstream.name !== '' && first < i) {
      checks.report(`upstreams[${i}].name`, `'${upstream.name}' is used twice`);
    }
  });
  checkFallbackTargets(upstreams, checks);
  return upstreams;
}
