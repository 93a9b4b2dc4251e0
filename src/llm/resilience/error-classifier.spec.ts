import { classifyHttpError, describeStatus, type HttpErrorResponse } from './error-classifier';
import { isLlmError } from './llm.errors';

const NOW = Date.parse('2025-01-01T00:00:00Z');

function openAiBody(message: string, code: string | null, type = 'invalid_request_error'): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

function classify(status: number, body = '', headers: HttpErrorResponse['headers'] = {}) {
  return classifyHttpError({
    status,
    headers,
    body,
    upstream: 'openai',
    model: 'gpt-4o',
    now: NOW,
  });
}

describe('classifyHttpError: kinds', () => {
  it.each([
    [400, 'bad_request'],
    [413, 'bad_request'],
    [422, 'bad_request'],
    [418, 'bad_request'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'not_found'],
    [408, 'timeout'],
    [409, 'conflict'],
    [429, 'rate_limited'],
    [500, 'server_error'],
    [502, 'server_error'],
    [504, 'server_error'],
    [503, 'overloaded'],
    [529, 'overloaded'],
    [302, 'invalid_response'],
  ])('maps %d to %s', (status, kind) => {
    expect(classify(status).kind).toBe(kind);
  });

  it('reads context_length_exceeded from the provider code', () => {
    const body = openAiBody(
      "This model's maximum context length is 8192 tokens.",
      'context_length_exceeded',
    );
    expect(classify(400, body).kind).toBe('context_length_exceeded');
  });

  it('reads context length from the message when a server sends no code (vLLM)', () => {
    const body = JSON.stringify({
      object: 'error',
      message: "This model's maximum context length is 4096 tokens. However, you requested 5000.",
      type: 'BadRequestError',
      code: 400,
    });
    expect(classify(400, body).kind).toBe('context_length_exceeded');
  });

  it.each(['content_filter', 'content_policy_violation'])(
    'maps code %s to content_filtered',
    (code) => {
      expect(classify(400, openAiBody('Filtered.', code)).kind).toBe('content_filtered');
    },
  );

  it("maps Azure's ResponsibleAIPolicyViolation inner error to content_filtered", () => {
    const body = JSON.stringify({
      error: {
        message: 'Filtered',
        code: 'BadRequest',
        innererror: { code: 'ResponsibleAIPolicyViolation' },
      },
    });
    expect(classify(400, body).kind).toBe('content_filtered');
  });

  it('maps 429 insufficient_quota to quota_exceeded, not retryable', () => {
    const error = classify(
      429,
      openAiBody('You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota'),
    );
    expect(error.kind).toBe('quota_exceeded');
    expect(error.retryable).toBe(false);
  });

  it('maps an old-style quota error that names it only in type', () => {
    expect(classify(429, openAiBody('Quota.', null, 'insufficient_quota')).kind).toBe(
      'quota_exceeded',
    );
  });
});

describe('classifyHttpError: retryable and x-should-retry', () => {
  it('takes retryable from the kind', () => {
    expect(classify(503).retryable).toBe(true);
    expect(classify(400).retryable).toBe(false);
  });

  it('obeys x-should-retry: false on a retryable status', () => {
    const error = classify(500, '', { 'x-should-retry': 'false' });
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('x-should-retry: false');
  });

  it('obeys x-should-retry: true on a client error, as OpenAI’s SDK does', () => {
    expect(classify(400, '', { 'x-should-retry': 'true' }).retryable).toBe(true);
    expect(classify(404, '', { 'x-should-retry': 'TRUE' }).retryable).toBe(true);
  });

  it('never retries auth or quota errors, whatever x-should-retry says', () => {
    expect(classify(401, '', { 'x-should-retry': 'true' }).retryable).toBe(false);
    const quota = openAiBody('Quota.', 'insufficient_quota');
    expect(classify(429, quota, { 'x-should-retry': 'true' }).retryable).toBe(false);
  });
});

describe('classifyHttpError: details', () => {
  const rateLimitBody = openAiBody(
    'Rate limit reached for requests',
    'rate_limit_exceeded',
    'requests',
  );

  it('carries status, request id, provider code, upstream and model', () => {
    const error = classify(429, rateLimitBody, { 'x-request-id': 'req_123' });
    expect(isLlmError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'LLM_RATE_LIMITED',
      status: 429,
      requestId: 'req_123',
      providerCode: 'rate_limit_exceeded',
      upstream: 'openai',
      model: 'gpt-4o',
    });
  });

  it("keeps the provider's param for a mistake in the request, when it is a field path", () => {
    const body = (param: unknown, status = 400) =>
      classify(
        status,
        JSON.stringify({
          error: { message: 'Invalid value', type: 'invalid_request_error', param, code: 'x' },
        }),
      );
    expect(body('messages[0].role').param).toBe('messages[0].role');
    expect(body('max_tokens').param).toBe('max_tokens');
    // Not a field path: provider text, maybe a key, is not carried.
    expect(body('Bearer sk-abc def').param).toBeUndefined();
    expect(body('a'.repeat(200)).param).toBeUndefined();
    expect(body(42).param).toBeUndefined();
    // Not a mistake in the request: a 429's param says nothing about the caller's fields.
    expect(body('requests', 429).param).toBeUndefined();
  });

  it("never carries the upstream's key as the param, though it has a field path's shape", () => {
    const key = 'sk-probe-SECRET-123';
    const error = classifyHttpError({
      status: 400,
      headers: {},
      body: JSON.stringify({
        error: { message: 'x', type: 'invalid_request_error', param: key, code: 'x' },
      }),
      upstream: 'openai',
      model: 'gpt-4o',
      now: NOW,
      secrets: [key],
    });
    expect(error.param).toBeUndefined();
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('SECRET');
  });

  it('takes the server hint, uncapped', () => {
    const error = classify(429, rateLimitBody, { 'retry-after-ms': '1200' });
    expect(error.retryAfterMs).toBe(1200);
    expect(error.retryAfterSource).toBe('retry-after-ms');
    expect(classify(503, '', { 'retry-after': '3600' }).retryAfterMs).toBe(3_600_000);
  });

  it('uses now for a Retry-After date', () => {
    const date = new Date(NOW + 5000).toUTCString();
    expect(classify(503, '', { 'retry-after': date }).retryAfterMs).toBe(5000);
  });

  it('says what happened and when to retry', () => {
    const error = classify(429, rateLimitBody, { 'retry-after-ms': '1200' });
    expect(error.message).toBe(
      "Upstream 'openai' model 'gpt-4o' answered 429 (rate_limit_exceeded): Rate limit reached " +
        'for requests. The rate limit of this upstream was hit. Retry after 1.2 s.',
    );
  });

  it('tells the reader the key is wrong and that auth is not retried', () => {
    const error = classify(401, openAiBody('Incorrect API key provided.', 'invalid_api_key'));
    expect(error.message).toContain("The API key for upstream 'openai' is missing or invalid");
    expect(error.message).toMatch(/Not retried\.$/);
  });

  it('falls back to the type when the provider sends no code (Anthropic)', () => {
    const body = JSON.stringify({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(classify(529, body).providerCode).toBe('overloaded_error');
  });

  it("keeps OpenAI's null code null: its type is a category, not a code", () => {
    const body = JSON.stringify({
      error: { message: 'Bad thing', type: 'invalid_request_error', param: 'foo', code: null },
    });
    const error = classify(400, body);
    expect(error).toMatchObject({ kind: 'bad_request', param: 'foo' });
    expect(error.providerCode).toBeUndefined();
  });

  it('reads Ollama’s string error', () => {
    const error = classify(404, JSON.stringify({ error: "model 'llama9' not found" }));
    expect(error.message).toContain("answered 404: model 'llama9' not found.");
  });

  it('drops a code that only repeats the status', () => {
    const body = JSON.stringify({ error: { code: '429', message: 'Too many requests.' } });
    expect(classify(429, body).providerCode).toBeUndefined();
  });
});

describe('classifyHttpError: untrusted bodies', () => {
  it('masks the API key in the provider message', () => {
    const secret = 'azure0123456789abcdef';
    const body = openAiBody(
      `Key ${secret} and sk-proj-abcdefghijkl are invalid.`,
      'invalid_api_key',
    );
    const error = classifyHttpError({
      status: 401,
      headers: {},
      body,
      upstream: 'azure',
      model: 'gpt-4o',
      secrets: [secret],
    });
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('sk-proj-abcdefghijkl');
    expect(error.message).toContain('Key *** and sk-*** are invalid.');
  });

  it('replaces an HTML error page with the status text', () => {
    const html = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
    const error = classify(502, html);
    expect(error.message).toContain('answered 502: Bad Gateway (HTML error page).');
    expect(error.message).not.toContain('nginx');
  });

  it('describes an empty body', () => {
    expect(classify(500).message).toContain('answered 500: Internal Server Error (empty body).');
  });

  it('keeps a plain-text body, cut to 300 characters', () => {
    const message = classify(500, `upstream connect error ${'x'.repeat(5000)}`).message;
    const text = message.slice(message.indexOf(': ') + 2, message.indexOf('…') + 1);
    expect(text).toHaveLength(300);
    expect(text.startsWith('upstream connect error xxx')).toBe(true);
    expect(message).toMatch(/x… Retryable with backoff\.$/);
  });

  it('never cuts a key in half before masking it', () => {
    // Built at run time so the source holds nothing that looks like a committed key.
    const body = `${'a '.repeat(145)}sk-${'abcdefghijklmnopqrstuvwxyz'}${'0123456789'}`;
    expect(classify(500, body).message).not.toMatch(/sk-[a-z]/);
  });
});

describe('describeStatus', () => {
  it.each([
    [502, 'Bad Gateway'],
    [529, 'Overloaded'],
    [599, 'HTTP 599'],
  ])('describes %d as %s', (status, text) => {
    expect(describeStatus(status)).toBe(text);
  });
});
