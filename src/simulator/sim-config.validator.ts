import { SIM_ENFORCEMENTS } from './rate-limit.enforcer';
import {
  expectNumber,
  expectObject,
  expectOneOf,
  expectString,
  expectStringArray,
  SimValidationError,
} from './sim-input.validation';
import { SIM_PROVIDERS, type SimConfig, type SimOutage } from './simulator.types';

const CONFIG_FIELDS = [
  'latencyMs',
  'rpm',
  'tpm',
  'enforcement',
  'windowMs',
  'intervalMs',
  'burstMs',
  'provider',
  'apiKey',
  'models',
  'outage',
];
// JSON has no `undefined`: over HTTP, `null` switches these off.
const CLEARABLE = new Set(['rpm', 'tpm', 'apiKey', 'outage']);

/**
 * Checks a config change, from code or from `POST /_sim/config`. A clearable field that is
 * present with `null` or `undefined` comes back as `undefined` (present), which switches it off
 * (`outage: null` ends the outage); other fields left `undefined` are dropped.
 *
 * @throws SimValidationError e.g. `config.rpm must be an integer >= 0`
 * @example
 * parseConfigPatch({ rpm: 60, apiKey: null }); // { rpm: 60, apiKey: undefined }
 */
export function parseConfigPatch(input: unknown, field = 'config'): Partial<SimConfig> {
  const patch = expectObject(input, field, CONFIG_FIELDS);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === undefined) {
      if (CLEARABLE.has(key)) result[key] = undefined;
      else if (value === null) throw new SimValidationError(`${field}.${key}`, 'cannot be null');
      continue;
    }
    result[key] = key === 'outage' ? parseOutage(value, `${field}.outage`) : value;
  }
  expectNumber(result.latencyMs, `${field}.latencyMs`);
  expectNumber(result.rpm, `${field}.rpm`, { integer: true });
  expectNumber(result.tpm, `${field}.tpm`, { integer: true });
  expectOneOf(result.enforcement, `${field}.enforcement`, SIM_ENFORCEMENTS);
  expectNumber(result.windowMs, `${field}.windowMs`, { min: 1 });
  expectNumber(result.intervalMs, `${field}.intervalMs`, { min: 1 });
  expectNumber(result.burstMs, `${field}.burstMs`, { min: 1 });
  expectOneOf(result.provider, `${field}.provider`, SIM_PROVIDERS);
  expectString(result.apiKey, `${field}.apiKey`);
  expectStringArray(result.models, `${field}.models`, true);
  if (Array.isArray(result.models)) result.models = [...(result.models as string[])];
  // Every field was checked above, so the loose record now holds a valid patch.
  return result;
}

/**
 * Checks an outage, from `startOutage()`, `configure({ outage })` or `POST /_sim/outage`.
 *
 * @throws SimValidationError e.g. `outage.durationMs is required`
 * @example
 * parseOutage({ durationMs: 200 }); // { status: 503, durationMs: 200 }
 */
export function parseOutage(input: unknown, field = 'outage'): Required<SimOutage> {
  const outage = expectObject(input, field, ['status', 'durationMs']);
  if (outage.durationMs === undefined) {
    throw new SimValidationError(`${field}.durationMs`, 'is required');
  }
  expectNumber(outage.durationMs, `${field}.durationMs`);
  expectNumber(outage.status, `${field}.status`, { min: 400, max: 599, integer: true });
  return {
    status: (outage.status as number | undefined) ?? 503,
    durationMs: outage.durationMs as number,
  };
}
