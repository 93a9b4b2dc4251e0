import { LlmError } from '../resilience/llm.errors';
import { CONNECT_TIMEOUT_CODE } from './connect-timeout.agent';
import { SSE_LINE_TOO_LONG } from './sse-parser';

/** Socket-level codes that mean the provider never answered (or the connection broke). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'ECONNABORTED',
]);

/**
 * Turns a transport failure (axios or socket error) into an {@link LlmError}. The original error
 * is not kept as `cause`: an AxiosError carries the request config, Authorization header included,
 * and anyone logging `error.cause` would print the API key. Only its code and message survive.
 */
export function classifyTransportError(
  error: unknown,
  context: { upstream: string; model: string },
): LlmError {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const cause = Object.assign(new Error(message), { code });
  if (code === CONNECT_TIMEOUT_CODE) {
    return new LlmError(
      'timeout',
      `Could not connect to upstream '${context.upstream}' within the connect timeout (${message}).`,
      { ...context, cause },
    );
  }
  if (message.includes('maxContentLength') || code === SSE_LINE_TOO_LONG) {
    // axios' verdict on the body itself: larger than the 8 MiB a completion may have.
    return new LlmError(
      'invalid_response',
      `Upstream '${context.upstream}' sent a response that could not be read: ${message}.`,
      { ...context, cause },
    );
  }
  const known = code !== undefined && NETWORK_CODES.has(code);
  if (!known && isLocalFailure(error)) {
    return new LlmError(
      'internal',
      `A failure inside this process before upstream '${context.upstream}' answered ` +
        `(${error instanceof Error ? error.name : typeof error}: ${message}). Not the upstream's ` +
        'fault: not retried, not counted by the circuit breaker.',
      { ...context, cause, retryable: false },
    );
  }
  return new LlmError(
    'network',
    `Network error talking to upstream '${context.upstream}': ${code ?? 'unknown'} ${message}.` +
      (known ? ' The provider may be unreachable, or the connection broke.' : ''),
    { ...context, cause },
  );
}

/**
 * Errors that arise in this process rather than on the wire: the engine's own errors (a stack
 * overflow is a RangeError, a bug a TypeError) and anything neither axios nor a socket raised.
 * Axios marks every error of its own with `isAxiosError`; socket errors carry a code.
 */
function isLocalFailure(error: unknown): boolean {
  if (
    error instanceof RangeError ||
    error instanceof TypeError ||
    error instanceof SyntaxError ||
    error instanceof ReferenceError
  ) {
    return true;
  }
  if (typeof error !== 'object' || error === null) return true;
  const marked = error as { isAxiosError?: unknown; code?: unknown };
  return marked.isAxiosError !== true && typeof marked.code !== 'string';
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // axios wraps the socket error; walk the chain for the first code.
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    // ERR_BAD_RESPONSE is axios' wrapper ("stream has been aborted"): the cause says more.
    if (typeof code === 'string' && code !== 'ERR_BAD_RESPONSE') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
