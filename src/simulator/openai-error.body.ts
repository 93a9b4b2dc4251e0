/** The fields of OpenAI's `{ error: { message, type, param, code } }` body. */
export interface OpenAiErrorInit {
  message: string;
  type: string;
  code: string | null;
  param?: string | null;
}

/** The JSON body OpenAI sends with every error. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

// Messages and codes as OpenAI sends them where it has one (500 and 503 are verbatim), so clients
// classify the simulator's errors the way they would classify the real ones.
const DEFAULTS: Readonly<Record<number, OpenAiErrorInit>> = {
  400: { message: 'Invalid request.', type: 'invalid_request_error', code: null },
  401: {
    message: 'Incorrect API key provided.',
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  },
  403: {
    message: 'You are not allowed to access this resource.',
    type: 'permission_error',
    code: 'permission_denied',
  },
  404: {
    message: 'The model does not exist or you do not have access to it.',
    type: 'invalid_request_error',
    code: 'model_not_found',
  },
  408: { message: 'Request timed out.', type: 'timeout_error', code: 'timeout' },
  409: {
    message: 'Another request is already modifying this resource.',
    type: 'invalid_request_error',
    code: 'conflict',
  },
  429: {
    message: 'Rate limit reached. Please try again later.',
    type: 'rate_limit_error',
    code: 'rate_limit_exceeded',
  },
  500: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    code: null,
  },
  502: { message: 'Bad gateway.', type: 'server_error', code: null },
  503: { message: 'The server is overloaded or not ready yet.', type: 'server_error', code: null },
  504: { message: 'Gateway timeout.', type: 'server_error', code: null },
};

/**
 * The error OpenAI would send for a status, for statuses it has no special answer for too.
 *
 * @example
 * defaultErrorFor(503).message; // 'The server is overloaded or not ready yet.'
 */
export function defaultErrorFor(status: number): OpenAiErrorInit {
  const known = DEFAULTS[status];
  if (known) return known;
  return status >= 500
    ? { message: `The server answered ${status}.`, type: 'server_error', code: null }
    : {
        message: `Request failed with status ${status}.`,
        type: 'invalid_request_error',
        code: null,
      };
}

/**
 * Builds the OpenAI-shaped error body.
 *
 * @example
 * openAiErrorBody(defaultErrorFor(401)); // { error: { message: 'Incorrect API key provided.', ... } }
 */
export function openAiErrorBody(init: OpenAiErrorInit): OpenAiErrorBody {
  return {
    error: { message: init.message, type: init.type, param: init.param ?? null, code: init.code },
  };
}
