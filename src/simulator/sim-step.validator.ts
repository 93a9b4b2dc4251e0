import {
  expectHeaders,
  expectNumber,
  expectObject,
  expectString,
  expectStringArray,
  isRecord,
  SimValidationError,
} from './sim-input.validation';
import { SIM_STEP_TYPES, type SimStep } from './simulator.types';

const BASE = ['type', 'repeat', 'latencyMs'];
const FIELDS: Readonly<Record<SimStep['type'], readonly string[]>> = {
  ok: [...BASE, 'content', 'model', 'usage', 'headers'],
  error: [...BASE, 'status', 'code', 'message', 'errorType', 'headers', 'body'],
  hang: BASE,
  reset: BASE,
  malformed: BASE,
  stream: [
    ...BASE,
    ...['content', 'chunks', 'model', 'headers', 'delayMs', 'firstChunkDelayMs'],
    ...['keepAliveEveryMs', 'emptyDeltas', 'stallAfter', 'cutAfter', 'keepAliveOnly'],
  ],
};

const isStepType = (value: unknown): value is SimStep['type'] =>
  (SIM_STEP_TYPES as readonly unknown[]).includes(value);

/**
 * Checks a script, from code or from `POST /_sim/script`, and names the first bad field.
 *
 * @throws SimValidationError e.g. `steps[0].status must be an integer from 100 to 599`
 * @example
 * parseSteps([{ type: 'error', status: 503, repeat: 2 }]);
 */
export function parseSteps(input: unknown, field = 'steps'): SimStep[] {
  if (!Array.isArray(input)) throw new SimValidationError(field, 'must be an array of steps');
  return input.map((step, index) => parseStep(step, `${field}[${index}]`));
}

function parseStep(input: unknown, field: string): SimStep {
  const type = isRecord(input) ? input.type : undefined;
  if (!isStepType(type)) {
    throw new SimValidationError(`${field}.type`, `must be one of ${SIM_STEP_TYPES.join(', ')}`);
  }
  const step = expectObject(input, field, FIELDS[type]);
  expectNumber(step.repeat, `${field}.repeat`, { min: 1, integer: true });
  expectNumber(step.latencyMs, `${field}.latencyMs`);
  if (type === 'ok') checkOk(step, field);
  if (type === 'error') checkError(step, field);
  if (type === 'stream') checkStream(step, field);
  // Copied, so a caller that mutates its object later does not change the queued script.
  return { ...step } as unknown as SimStep;
}

function checkOk(step: Record<string, unknown>, field: string): void {
  expectString(step.content, `${field}.content`);
  expectString(step.model, `${field}.model`);
  expectHeaders(step.headers, `${field}.headers`);
  if (step.usage === undefined) return;
  const fields = ['prompt_tokens', 'completion_tokens', 'total_tokens'];
  const usage = expectObject(step.usage, `${field}.usage`, fields);
  for (const name of fields) expectNumber(usage[name], `${field}.usage.${name}`, { integer: true });
}

function checkError(step: Record<string, unknown>, field: string): void {
  if (step.status === undefined) throw new SimValidationError(`${field}.status`, 'is required');
  expectNumber(step.status, `${field}.status`, { min: 100, max: 599, integer: true });
  if (step.code !== null) expectString(step.code, `${field}.code`);
  expectString(step.message, `${field}.message`);
  expectString(step.errorType, `${field}.errorType`);
  expectString(step.body, `${field}.body`);
  expectHeaders(step.headers, `${field}.headers`);
}

function checkStream(step: Record<string, unknown>, field: string): void {
  expectString(step.content, `${field}.content`);
  expectString(step.model, `${field}.model`);
  expectStringArray(step.chunks, `${field}.chunks`);
  expectHeaders(step.headers, `${field}.headers`);
  for (const name of ['delayMs', 'firstChunkDelayMs']) expectNumber(step[name], `${field}.${name}`);
  expectNumber(step.keepAliveEveryMs, `${field}.keepAliveEveryMs`, { min: 1 });
  for (const name of ['emptyDeltas', 'stallAfter', 'cutAfter']) {
    expectNumber(step[name], `${field}.${name}`, { integer: true });
  }
  if (step.keepAliveOnly !== undefined && typeof step.keepAliveOnly !== 'boolean') {
    throw new SimValidationError(`${field}.keepAliveOnly`, 'must be a boolean');
  }
}
