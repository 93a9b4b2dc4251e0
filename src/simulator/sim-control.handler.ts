import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJson, readBody, sendError, sendJson } from './http.io';
import { parseConfigPatch, parseOutage } from './sim-config.validator';
import { expectObject, SimValidationError } from './sim-input.validation';
import { parseSteps } from './sim-step.validator';
import type { SimulatorState } from './simulator.state';

type ControlRoute = (body: unknown, state: SimulatorState) => object;

// The HTTP twin of the programmatic API, for a simulator in another process (docker, demo).
// It takes no key: it is a test tool bound to loopback by default.
const ROUTES: Readonly<Record<string, ControlRoute>> = {
  'POST /_sim/script': (body, state) => {
    const { steps } = expectObject(body, 'body', ['steps']);
    state.queue.push(parseSteps(steps, 'steps'));
    return { queued: state.queue.size };
  },
  'POST /_sim/config': (body, state) => {
    state.configure(parseConfigPatch(body, 'body'));
    return { config: state.publicConfig() };
  },
  'GET /_sim/config': (_body, state) => ({ config: state.publicConfig() }),
  'POST /_sim/outage': (body, state) => {
    state.startOutage(parseOutage(body, 'body'));
    return { outage: state.publicConfig().outage };
  },
  'POST /_sim/reset': (_body, state) => {
    state.reset();
    return { reset: true };
  },
  'GET /_sim/requests': (_body, state) => ({
    count: state.requests.length,
    requests: state.requests,
  }),
};

/**
 * Serves the control API under `/_sim/`. Bad input answers a 400 whose `param` and message name
 * the field to fix.
 *
 * @example
 * // POST /_sim/script {"steps":[{"type":"error","status":503}]} -> 200 {"queued":1}
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  state: SimulatorState,
): Promise<void> {
  const method = req.method ?? 'GET';
  const route = ROUTES[`${method} ${path}`];
  if (!route) {
    const message = `Unknown control endpoint ${method} ${path}; see ${Object.keys(ROUTES).join(', ')}.`;
    sendError(res, 404, { message, type: 'invalid_request_error', code: null });
    return;
  }
  const raw = method === 'GET' ? '' : await readBody(req);
  const body = raw.trim() === '' ? {} : parseJson(raw);
  if (body === undefined) {
    const message = 'body must be JSON.';
    sendError(res, 400, { message, type: 'invalid_request_error', param: 'body', code: null });
    return;
  }
  try {
    sendJson(res, 200, route(body, state));
  } catch (error) {
    if (!(error instanceof SimValidationError)) throw error;
    const init = { message: error.message, param: error.field, code: 'invalid_value' };
    sendError(res, 400, { ...init, type: 'invalid_request_error' });
  }
}
