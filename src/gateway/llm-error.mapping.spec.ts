import { LlmError, type LlmErrorKind } from '../llm/index';
import { fromLlmError } from './llm-error.mapping';

describe('fromLlmError', () => {
  it.each<[LlmErrorKind, number | undefined, number, string]>([
    ['rate_limited', 429, 429, 'rate_limit_error'],
    ['quota_exceeded', 429, 429, 'insufficient_quota'],
    ['bad_request', undefined, 400, 'invalid_request_error'],
    ['bad_request', 422, 422, 'invalid_request_error'],
    ['context_length_exceeded', 400, 400, 'invalid_request_error'],
    ['content_filtered', 400, 400, 'invalid_request_error'],
    ['auth', 401, 401, 'authentication_error'],
    ['auth', 403, 403, 'permission_error'],
    ['not_found', 404, 404, 'invalid_request_error'],
    ['conflict', 409, 409, 'invalid_request_error'],
    ['server_error', 500, 502, 'upstream_error'],
    ['network', undefined, 502, 'upstream_error'],
    ['invalid_response', 200, 502, 'upstream_error'],
    ['overloaded', 503, 503, 'service_unavailable_error'],
    ['circuit_open', undefined, 503, 'service_unavailable_error'],
    ['bulkhead_full', undefined, 503, 'service_unavailable_error'],
    ['timeout', undefined, 504, 'timeout_error'],
    ['deadline_exceeded', undefined, 504, 'timeout_error'],
    ['deadline_exceeded', 429, 429, 'rate_limit_error'],
    ['cancelled', undefined, 499, 'cancelled'],
    ['internal', undefined, 500, 'server_error'],
    ['shutting_down', undefined, 503, 'service_unavailable_error'],
  ])('%s (upstream status %s) -> %i %s', (kind, status, expected, type) => {
    const reply = fromLlmError(new LlmError(kind, 'It failed.', { status, attempts: 2 }));
    expect(reply.status).toBe(expected);
    expect(reply.body.error).toMatchObject({ type, code: kind, param: null });
    expect(reply.headers['x-llm-attempts']).toBe('2');
  });

  it('sends the wait in whole seconds (at least 1) and in milliseconds', () => {
    const at = (retryAfterMs: number) =>
      fromLlmError(new LlmError('circuit_open', 'Open.', { retryAfterMs })).headers;
    expect(at(1)).toMatchObject({ 'retry-after': '1', 'retry-after-ms': '1' });
    expect(at(26_400.2)).toMatchObject({ 'retry-after': '27', 'retry-after-ms': '26401' });
    expect(
      fromLlmError(new LlmError('overloaded', 'Busy.')).headers['retry-after'],
    ).toBeUndefined();
  });

  it('says an auth failure is the gateway key, and quotes the upstream request id', () => {
    const error = new LlmError('auth', "Upstream 'openai' answered 401.", {
      status: 401,
      requestId: 'req_1',
    });
    const reply = fromLlmError(error);
    expect(reply.body.error.message).toMatch(
      /^The upstream rejected the gateway's own credentials/,
    );
    expect(reply.body.error.message).toContain("Upstream 'openai' answered 401.");
    expect(reply.headers['x-llm-upstream-request-id']).toBe('req_1');
  });
});
