import { LlmError } from '../resilience/llm.errors';
import { CONNECT_TIMEOUT_CODE } from './connect-timeout.agent';
import { BODY_TOO_LARGE } from './read-body';
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

/** Node's codes of a TLS handshake that cannot succeed as configured (certificates, protocol). */
function isTlsSetupFailure(code: string): boolean {
  return (
    code === 'EPROTO' ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  );
}

/** zlib's (`Z_DATA_ERROR`), brotli's (`ERR__ERROR_FORMAT_...`) and zstd's codes: a body that does not decompress. */
function isDecodingFailure(code: string): boolean {
  return code.startsWith('Z_') || code.startsWith('ERR__ERROR_') || code.startsWith('ZSTD_error');
}

/**
 * Turns a transport failure (a socket or HTTP client error of Node's, or a body that could not be
 * read) into an {@link LlmError}. The original error is not kept as `cause`: it may reference the
 * request (its headers, Authorization included), and anyone logging `error.cause` would print the
 * API key. Only its code and message survive.
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
  if (code === BODY_TOO_LARGE || code === SSE_LINE_TOO_LONG) {
    // The verdict on the body itself (`readWholeBody`): larger than a completion may be.
    // Not retried: the same request brings an answer of the same size, read again each time.
    return new LlmError(
      'invalid_response',
      `Upstream '${context.upstream}' sent a response that could not be read: ${message}.`,
      { ...context, cause, retryable: false },
    );
  }
  if (code !== undefined && isDecodingFailure(code)) {
    // The upstream answered, with a body that is not what its Content-Encoding says: a bad answer,
    // retried as a malformed one is, not a network failure.
    return new LlmError(
      'invalid_response',
      `Upstream '${context.upstream}' sent a body that does not decompress as its ` +
        `Content-Encoding says (${code} ${message}).`,
      { ...context, cause },
    );
  }
  if (code !== undefined && isTlsSetupFailure(code)) {
    // A certificate the process does not trust, or TLS spoken to a plain port: the same on every
    // attempt, so not retried (still a breaker failure: the upstream is unusable as configured).
    return new LlmError(
      'network',
      `TLS with upstream '${context.upstream}' failed: ${code} ${message}. Check its baseUrl ` +
        '(https to a plain http port?) and the certificates this process trusts ' +
        '(NODE_EXTRA_CA_CERTS); not retried.',
      { ...context, cause, retryable: false },
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
 * overflow is a RangeError, a bug a TypeError) and anything without a code. Every error of Node's
 * HTTP client and sockets carries a string code (`ECONNRESET`, `HPE_INVALID_CONSTANT`,
 * `ABORT_ERR`, ...).
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
  return typeof (error as { code?: unknown }).code !== 'string';
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // A wrapped error (a stream pipeline's, an abort's) may carry its code on a cause.
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
