import type { SimConfig } from '../../src/simulator/simulator.types';

/** Keys of the enforcement modes, in the order the results show them. */
export const ENFORCEMENT_MODE_IDS = [
  'sliding-minute',
  'interval-1s',
  'interval-10s',
  'token-bucket',
] as const;
export type EnforcementModeId = (typeof ENFORCEMENT_MODE_IDS)[number];

/** One way a provider enforces its limit, as the simulator plays it. */
export interface EnforcementMode {
  id: EnforcementModeId;
  label: string;
  /** The label where space is short (plot legends). */
  short: string;
  /** What the simulator is configured with, besides the limit itself. */
  sim: Pick<SimConfig, 'enforcement' | 'windowMs' | 'intervalMs' | 'burstMs' | 'provider'>;
}

const DEFAULTS = { windowMs: 60_000, intervalMs: 1_000, burstMs: 1_000 } as const;

/**
 * The modes every scenario runs against. Azure evaluates "over a small period of time, typically
 * 1 or 10 seconds" and says so with Azure's hints; OpenAI enforces "at sub-minute granularity",
 * played as a token bucket with OpenAI's hints; the sliding minute is the simulator of old.
 */
export const ENFORCEMENT_MODES: Readonly<Record<EnforcementModeId, EnforcementMode>> = {
  'sliding-minute': {
    id: 'sliding-minute',
    label: 'sliding minute, OpenAI hints',
    short: 'sliding minute (OpenAI)',
    sim: { ...DEFAULTS, enforcement: 'sliding', provider: 'openai' },
  },
  'interval-1s': {
    id: 'interval-1s',
    label: '1 s intervals, Azure hints',
    short: '1 s intervals (Azure)',
    sim: { ...DEFAULTS, enforcement: 'interval', intervalMs: 1_000, provider: 'azure' },
  },
  'interval-10s': {
    id: 'interval-10s',
    label: '10 s intervals, Azure hints',
    short: '10 s intervals (Azure)',
    sim: { ...DEFAULTS, enforcement: 'interval', intervalMs: 10_000, provider: 'azure' },
  },
  'token-bucket': {
    id: 'token-bucket',
    label: 'token bucket of 2 s, OpenAI hints',
    short: 'bucket of 2 s (OpenAI)',
    sim: { ...DEFAULTS, enforcement: 'bucket', burstMs: 2_000, provider: 'openai' },
  },
};

/** The modes named in `text` (`interval-1s,token-bucket`), or all of them when it is empty. */
export function readModes(text: string | undefined, variable: string): EnforcementMode[] {
  const names = (text ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) return ENFORCEMENT_MODE_IDS.map((id) => ENFORCEMENT_MODES[id]);
  return names.map((name) => {
    const mode = ENFORCEMENT_MODES[name as EnforcementModeId] as EnforcementMode | undefined;
    if (!mode) {
      throw new Error(
        `${variable}=${text} names '${name}'; use ${ENFORCEMENT_MODE_IDS.join(', ')}.`,
      );
    }
    return mode;
  });
}
