import type { ExecutionContext } from '@nestjs/common';
import { defaultFeatureExtractor, defaultUserIdExtractor } from './llm-context.extractors';

/** An HTTP request's context as Nest hands it to extractors. */
function httpContext(headers: Record<string, string>): ExecutionContext {
  const req = { headers };
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

/** A header value as Node's parser hands it over: its bytes read as Latin-1. */
const asReceived = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('default context extractors', () => {
  it('decodes a UTF-8 x-user-id that Node read as Latin-1', () => {
    expect(asReceived('José-Ñandú-東京')).not.toBe('José-Ñandú-東京');
    expect(
      defaultUserIdExtractor(httpContext({ 'x-user-id': asReceived('José-Ñandú-東京') })),
    ).toBe('José-Ñandú-東京');
  });

  it('keeps a Latin-1 value that is not valid UTF-8 as it came', () => {
    expect(defaultUserIdExtractor(httpContext({ 'x-user-id': 'caf\u00e9' }))).toBe('caf\u00e9');
  });

  it('drops control characters and bounds the length', () => {
    const feature = defaultFeatureExtractor(
      httpContext({ 'x-feature-name': `chat\u0000\u001b[31m${'f'.repeat(400)}` }),
    );
    expect(feature).toMatch(/^chat\[31mf+$/);
    expect(feature).toHaveLength(256);
  });
});
