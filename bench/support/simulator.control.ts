import type {
  RecordedRequest,
  SimConfig,
  SimOutage,
  SimStep,
} from '../../src/simulator/simulator.types';

/** What `GET /_sim/requests` answers. */
export interface RecordedRequests {
  count: number;
  requests: RecordedRequest[];
}

/**
 * The simulator's control API (`/_sim/...`) over HTTP, for a simulator in another process: the
 * benchmark configures limits and outages and reads the requests it received, as an operator
 * would with curl.
 *
 * @example
 * const control = new SimulatorControl(sim.baseUrl);
 * await control.configure({ rpm: 60, windowMs: 2_000 });
 */
export class SimulatorControl {
  private readonly origin: string;

  /** `baseUrl` is the OpenAI-style base URL (`http://127.0.0.1:4010/v1`). */
  constructor(baseUrl: string) {
    this.origin = new URL(baseUrl).origin;
  }

  async configure(patch: Partial<SimConfig>): Promise<void> {
    await this.send('POST', '/_sim/config', patch);
  }

  async outage(outage: SimOutage): Promise<void> {
    await this.send('POST', '/_sim/outage', outage);
  }

  /** Queues scripted answers for the next chat requests. */
  async script(steps: SimStep[]): Promise<void> {
    await this.send('POST', '/_sim/script', { steps });
  }

  /** Forgets config changes, the script, the rate window and the recorded requests. */
  async reset(): Promise<void> {
    await this.send('POST', '/_sim/reset', {});
  }

  async requests(): Promise<RecordedRequests> {
    return (await this.send('GET', '/_sim/requests')) as RecordedRequests;
  }

  private async send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.origin}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`The simulator refused ${method} ${path} (${response.status}): ${text}`);
    }
    return JSON.parse(text) as unknown;
  }
}
