import { inspect, type InspectOptions } from 'node:util';
import type { LlmStreamUsage, ResolvedUpstream } from '../llm-module.options';
import { type LimitsLayer, mergeLimits, readLimitsLayer } from './limits-options.resolver';
import { LLM_DEFAULTS } from './llm.defaults';
import { OptionChecks } from './option-checks';
import {
  mergePolicy,
  POLICY_FIELDS,
  POLICY_SECTIONS,
  type PolicyLayer,
  readPolicyLayer,
} from './policy-options.resolver';

/** RFC 9110's token: what a header name may be. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const UPSTREAM_KEYS = [
  'name',
  'baseUrl',
  'apiKey',
  'defaultModel',
  'provider',
  'headers',
  'streamUsage',
  'limits',
  'fallbacks',
  ...POLICY_SECTIONS,
];

/** Keys that belong elsewhere when met in an upstream, and where. */
const UPSTREAM_ELSEWHERE = {
  ...POLICY_FIELDS,
  rpm: 'limits.rpm',
  tpm: 'limits.tpm',
  url: 'baseUrl',
  model: 'defaultModel',
  key: 'apiKey',
};

/** What `defaults` sets for every upstream, checked once. */
export interface SharedLayer {
  policy: PolicyLayer;
  limits?: LimitsLayer;
}

/** Checks `defaults` (the policy sections and `limits` every upstream inherits). */
export function readShared(given: unknown, checks: OptionChecks): SharedLayer {
  const keys = [...POLICY_SECTIONS, 'limits'];
  const defaults =
    checks.section(given, 'defaults', keys, '{ retry: { maxRetries: 2 } }', {
      elsewhere: POLICY_FIELDS,
    }) ?? {};
  return {
    policy: readPolicyLayer(defaults, 'defaults', checks),
    limits: readLimitsLayer(defaults.limits, 'defaults.limits', checks),
  };
}

/** One upstream, merged over `defaults` and the defaults, with every field checked. */
export function readUpstream(
  given: unknown,
  shared: SharedLayer,
  at: string,
  checks: OptionChecks,
): ResolvedUpstream {
  const example = "{ name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey, defaultModel }";
  const u = checks.section(given, at, UPSTREAM_KEYS, example, { elsewhere: UPSTREAM_ELSEWHERE });
  // Not an object (reported): its fields would only repeat the problem.
  if (u === undefined) {
    if (given === undefined) checks.report(at, `is not set; expected ${example}`);
    return placeholder(shared);
  }
  const name = checks.text(u.name, `${at}.name`, { required: true, example: '"openai"' });
  if (name !== undefined) checkName(name, `${at}.name`, checks);
  const defaultModel = checks.text(u.defaultModel, `${at}.defaultModel`, {
    required: true,
    example: '"gpt-4o-mini"',
  });
  const baseUrl = checks.text(u.baseUrl, `${at}.baseUrl`, {
    required: true,
    secret: true,
    example: '"https://api.openai.com/v1"',
  });
  if (baseUrl !== undefined) checkUrl(baseUrl, `${at}.baseUrl`, checks);
  // Never echo the key itself, not even in a startup error.
  const apiKey = checks.text(u.apiKey, `${at}.apiKey`, { secret: true });
  if (apiKey !== undefined && !isHeaderValue(apiKey)) {
    checks.report(
      `${at}.apiKey`,
      'holds a line break or another control character, which a header cannot carry (value not shown; ' +
        'a key read from a file often ends in a newline: trim it)',
    );
  }
  if (apiKey !== undefined && isHeaderValue(apiKey) && apiKey.trim() !== apiKey) {
    checks.report(
      `${at}.apiKey`,
      'has spaces or line breaks around it (value not shown); a key read from a file often does: trim it',
    );
  } else if (apiKey !== undefined && /^bearer\s/i.test(apiKey)) {
    checks.report(
      `${at}.apiKey`,
      "starts with 'Bearer ' (value not shown): give the key alone, the module sends it as " +
        "'Authorization: Bearer <apiKey>'",
    );
  }
  const provider = checks.text(u.provider, `${at}.provider`) ?? LLM_DEFAULTS.upstream.provider;
  const headers = checks.section(
    u.headers,
    `${at}.headers`,
    'any',
    "{ 'OpenAI-Organization': 'org-1' }",
  );
  for (const [header, value] of Object.entries(headers ?? {})) {
    if (!HTTP_TOKEN.test(header)) {
      // Node refuses such a name on every request: say so now, not as an error per call.
      checks.report(
        `${at}.headers`,
        `has a name that is not a valid HTTP header name (${JSON.stringify(header.slice(0, 40))}): ` +
          "letters, digits and !#$%&'*+-.^_`|~ only",
      );
    } else if (typeof value !== 'string') {
      checks.report(`${at}.headers['${header}']`, 'must be a string (value not shown)');
    } else if (!isHeaderValue(value)) {
      checks.report(
        `${at}.headers['${header}']`,
        'holds a line break or another control character, which a header cannot carry (value not shown)',
      );
    } else if (apiKey !== undefined && header.toLowerCase() === 'authorization') {
      // One of the two would be dropped without a word: the key is sent as Authorization.
      checks.report(
        `${at}.headers['${header}']`,
        `conflicts with ${at}.apiKey, which is sent as 'Authorization: Bearer <apiKey>': set one of them`,
      );
    }
  }
  const streamUsage = readStreamUsage(u.streamUsage, `${at}.streamUsage`, checks);
  const policy = mergePolicy(shared.policy, readPolicyLayer(u, at, checks), at, checks);
  const own = readLimitsLayer(u.limits, `${at}.limits`, checks);
  return withSecretsHidden({
    name: name ?? '',
    baseUrl: withoutTrailingSlash(baseUrl ?? ''),
    ...(apiKey === undefined ? {} : { apiKey }),
    defaultModel: defaultModel ?? '',
    provider,
    headers: { ...(headers as Record<string, string> | undefined) },
    requestsStreamUsage:
      streamUsage === 'always' || (streamUsage === 'auto' && isOpenAiApi(baseUrl ?? '')),
    secrets: secretsOf(apiKey, headers),
    fallbacks: readFallbacks(u.fallbacks, name ?? '', `${at}.fallbacks`, checks),
    retry: policy.retry,
    breaker: policy.breaker,
    bulkhead: policy.bulkhead,
    timeouts: policy.timeouts,
    limits: mergeLimits(shared.limits, own, provider),
    adjusted: policy.adjusted,
  });
}

const STREAM_USAGE: readonly LlmStreamUsage[] = ['auto', 'always', 'never'];

function readStreamUsage(value: unknown, at: string, checks: OptionChecks): LlmStreamUsage {
  const given = checks.text(value, at, { example: "'auto'" });
  if (given === undefined) return LLM_DEFAULTS.upstream.streamUsage;
  if (!STREAM_USAGE.includes(given as LlmStreamUsage)) {
    checks.report(
      at,
      `must be one of ${STREAM_USAGE.map((v) => `'${v}'`).join(', ')}, got '${given.slice(0, 40)}'`,
    );
    return LLM_DEFAULTS.upstream.streamUsage;
  }
  return given as LlmStreamUsage;
}

/** Whether a base URL is OpenAI's own API, which takes `stream_options.include_usage`. */
function isOpenAiApi(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).hostname.toLowerCase() === 'api.openai.com';
  } catch {
    return false;
  }
}

/** An upstream's credentials, kept off the resolved object itself (see {@link withSecretsHidden}). */
interface UpstreamSecrets {
  apiKey?: string;
  headers: Record<string, string>;
  secrets: readonly string[];
}

const SECRETS = new WeakMap<object, UpstreamSecrets>();

/**
 * The prototype of every resolved upstream: `apiKey`, `headers` and `secrets` are read through
 * its getters from {@link SECRETS}, not own properties; and `util.inspect` (`console.log`, Nest's
 * logger) shows the upstream's own fields only, with `showHidden` and `getters` too (which showed
 * the non-enumerable properties, then the prototype's getters' values).
 */
const WITH_SECRETS: object = Object.freeze(
  Object.create(Object.prototype, {
    apiKey: { get: secretOf('apiKey') },
    headers: { get: secretOf('headers') },
    secrets: { get: secretOf('secrets') },
    [inspect.custom]: {
      value(this: object, _depth: number, options: InspectOptions, show: typeof inspect) {
        return show({ ...this }, options);
      },
    },
  }) as object,
);

function secretOf<K extends keyof UpstreamSecrets>(field: K) {
  return function (this: object): UpstreamSecrets[K] | undefined {
    return SECRETS.get(this)?.[field];
  };
}

/**
 * Keeps `apiKey` and `headers` (credentials too: Azure's `api-key`) and the `secrets` list off the
 * resolved upstream: it reaches application code (a call's `upstream` in `lastResort`, the request
 * context's `calls`), where `console.log`, `util.inspect` (with `showHidden` too), `JSON.stringify`
 * or a spread must not print the key. The transport reads them by name, as before, through the
 * prototype's getters.
 */
function withSecretsHidden(upstream: ResolvedUpstream): ResolvedUpstream {
  const { apiKey, headers, secrets, ...rest } = upstream;
  const hidden = Object.assign(Object.create(WITH_SECRETS) as object, rest) as ResolvedUpstream;
  SECRETS.set(hidden, { ...(apiKey === undefined ? {} : { apiKey }), headers, secrets });
  return hidden;
}

/**
 * Header names that say their value is a credential (Azure's `api-key`, `x-custom-auth`, ...):
 * a word of the name, between dashes or underscores, so `x-portkey-provider` (a routing value) is
 * not one while `x-api-key` and `authorization` are.
 */
const CREDENTIAL_HEADER =
  /(^|[-_])(auth|authorization|key|apikey|token|secret|password|passwd|signature|cookie|session|credentials?)($|[-_])/i;

/** The key and the credential headers' values, which the module masks wherever it writes text. */
function secretsOf(
  apiKey: string | undefined,
  headers: Record<string, unknown> | undefined,
): string[] {
  const secrets = apiKey === undefined ? [] : [apiKey];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string' && CREDENTIAL_HEADER.test(name)) secrets.push(value);
  }
  return secrets;
}

/** Stands in for an upstream that is not an object, so the rest can still be checked. */
function placeholder(shared: SharedLayer): ResolvedUpstream {
  const policy = mergePolicy(
    shared.policy,
    readPolicyLayer({}, '', new OptionChecks()),
    '',
    new OptionChecks(),
  );
  return {
    name: '',
    baseUrl: '',
    defaultModel: '',
    provider: LLM_DEFAULTS.upstream.provider,
    headers: {},
    requestsStreamUsage: false,
    secrets: [],
    fallbacks: {},
    retry: policy.retry,
    breaker: policy.breaker,
    bulkhead: policy.bulkhead,
    timeouts: policy.timeouts,
    adjusted: [],
  };
}

function readFallbacks(
  given: unknown,
  upstream: string,
  at: string,
  checks: OptionChecks,
): ResolvedUpstream['fallbacks'] {
  const resolved: ResolvedUpstream['fallbacks'] = {};
  const example = "{ 'gpt-4o': [{ model: 'gpt-4o-mini' }] }";
  for (const [model, chain] of Object.entries(checks.section(given, at, 'any', example) ?? {})) {
    const path = `${at}['${model}']`;
    if (!Array.isArray(chain)) {
      checks.report(path, 'must be an array of { upstream?, model? }');
      continue;
    }
    resolved[model] = chain.map((target: unknown, i) => {
      const step = `${path}[${i}]`;
      const t = checks.section(target, step, ['upstream', 'model'], "{ model: 'gpt-4o-mini' }");
      const other = checks.text(t?.upstream, `${step}.upstream`);
      const otherModel = checks.text(t?.model, `${step}.model`);
      if (t !== undefined && t.upstream === undefined && t.model === undefined) {
        checks.report(step, 'must name an upstream, a model, or both');
      }
      return { upstream: other ?? upstream, model: otherModel };
    });
  }
  return resolved;
}

/** Every upstream a fallback names must exist. */
export function checkFallbackTargets(
  upstreams: readonly ResolvedUpstream[],
  checks: OptionChecks,
): void {
  const names = upstreams.map((upstream) => upstream.name);
  upstreams.forEach((upstream, u) => {
    for (const [model, chain] of Object.entries(upstream.fallbacks)) {
      chain.forEach((target, i) => {
        if (!names.includes(target.upstream)) {
          checks.report(
            `upstreams[${u}].fallbacks['${model}'][${i}].upstream`,
            `'${target.upstream}' is not the name of any upstream (${names.join(', ')})`,
          );
        }
      });
    }
  });
}

function checkUrl(value: string, path: string, checks: OptionChecks): void {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      checks.report(path, `must be an http(s) URL, got protocol '${url.protocol}'`);
    }
    // A password in the URL would be sent as Basic auth instead of the key, and printed wherever
    // the URL is: refused, so credentials only ever travel as apiKey or headers.
    // Everything after a '#' stays on the client: the request's path would be lost with it.
    if (url.hash !== '' || value.includes('#')) {
      checks.report(path, "must not contain a fragment ('#...'), which is never sent");
    }
    if (url.username !== '' || url.password !== '') {
      checks.report(
        path,
        'must not contain a user or password (user:password@host); pass the key as apiKey, or ' +
          'other credentials in headers',
      );
    }
  } catch {
    // Not echoed: a key pasted into the wrong field would be printed.
    checks.report(
      path,
      `must be an absolute URL such as https://api.openai.com/v1; got a ${value.length}-character value that is not one`,
    );
  }
}

/**
 * The base URL without trailing slashes on its path; a query (Azure's `?api-version=...`) is kept
 * after it, and the transport puts each request's path before it.
 */
function withoutTrailingSlash(value: string): string {
  if (!value.includes('?')) return value.replace(/\/+$/, '');
  const query = value.indexOf('?');
  return value.slice(0, query).replace(/\/+$/, '') + value.slice(query);
}

/**
 * Whether `value` holds no line break or other control character (a tab is fine): those end a
 * header, so Node refuses them on every request. A character outside Latin-1 is not a mistake
 * of this kind; the transport drops it from the header.
 */
/**
 * An upstream's name is matched exactly (the `upstream` call option, `defaultUpstream`,
 * fallbacks) and shown in logs, metrics and health: one that only looks like `primary` would be
 * found by no call, so spaces around it or control characters in it fail the boot.
 */
function checkName(name: string, path: string, checks: OptionChecks): void {
  const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name).replace(
    /[\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f]/.test(name)) {
    checks.report(
      path,
      `holds a line break, tab or another control character (${shown}): a name is matched ` +
        'exactly and shown in logs and metrics; use letters, digits, dashes or dots',
    );
  } else if (name.trim() !== name) {
    checks.report(
      path,
      `has spaces around it (${shown}): names are matched exactly, so { upstream: ` +
        `'${name.trim()}' } would find no upstream; trim it`,
    );
  }
}

function isHeaderValue(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x08\x0a-\x1f\x7f]/.test(value);
}
