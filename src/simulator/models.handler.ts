import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_API_KEY, isAuthorized } from './api-key.check';
import { sendError, sendJson } from './http.io';
import type { SimulatorState } from './simulator.state';

// A fixed creation time: clients that cache the model list see the same list every time.
const CREATED = 1_700_000_000;

/**
 * `GET /v1/models`: the configured models in OpenAI's list shape. Needs the key like every
 * OpenAI endpoint, so clients that probe it at start-up find a wrong key early.
 *
 * @example
 * // { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created, owned_by: 'simulator' }] }
 */
export function handleModels(
  req: IncomingMessage,
  res: ServerResponse,
  state: SimulatorState,
): void {
  if (!isAuthorized(req.headers, state.config.apiKey)) {
    sendError(res, 401, INVALID_API_KEY);
    return;
  }
  const data = state.config.models.map((id) => ({
    id,
    object: 'model',
    created: CREATED,
    owned_by: 'simulator',
  }));
  sendJson(res, 200, { object: 'list', data });
}
