import type { RecordedRequest } from './simulator.types';
import {
  MAX_RECORDED_BODY_BYTES,
  MAX_RECORDED_REQUESTS,
  resolveConfig,
  SimulatorState,
} from './simulator.state';

const request = (n: number): RecordedRequest => ({
  at: n,
  method: 'POST',
  path: '/v1/chat/completions',
  headers: {},
  body: n,
  hadAuthorization: false,
});

describe('SimulatorState: the recorded requests stay bounded', () => {
  it(`keeps the newest ${MAX_RECORDED_REQUESTS} requests`, () => {
    const state = new SimulatorState(resolveConfig({}));
    for (let n = 0; n < MAX_RECORDED_REQUESTS + 5; n++) state.record(request(n), 10);
    expect(state.requests).toHaveLength(MAX_RECORDED_REQUESTS);
    expect(state.requests[0]!.at).toBe(5);
  });

  it('keeps the newest bodies within their byte bound, and always the newest request', () => {
    const state = new SimulatorState(resolveConfig({}));
    const nine = 9 * 1024 * 1024;
    for (let n = 0; n < 20; n++) state.record(request(n), nine);
    expect(state.requests).toHaveLength(Math.floor(MAX_RECORDED_BODY_BYTES / nine));
    expect(state.requests.at(-1)!.at).toBe(19);
    state.record(request(20), MAX_RECORDED_BODY_BYTES * 2);
    expect(state.requests.map((r) => r.at)).toEqual([20]);
    state.reset();
    state.record(request(21), nine);
    expect(state.requests.map((r) => r.at)).toEqual([21]);
  });
});
