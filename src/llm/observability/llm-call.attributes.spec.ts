import type { ResolvedUpstream } from '../llm-module.options';
import { callAttributes, serverAttributes, upstreamAttributes } from './llm-call.attributes';

const upstream = (baseUrl: string) =>
  ({ name: 'azure-eu', provider: 'azure.ai.openai', baseUrl }) as ResolvedUpstream;

describe('serverAttributes', () => {
  it('strips the brackets of an IPv6 host', () => {
    expect(serverAttributes('http://[::1]:8080/v1')).toEqual({
      'server.address': '::1',
      'server.port': 8080,
    });
  });

  it('defaults the port from the scheme', () => {
    expect(serverAttributes('https://api.openai.com/v1')).toEqual({
      'server.address': 'api.openai.com',
      'server.port': 443,
    });
    expect(serverAttributes('http://vllm.internal/v1')['server.port']).toBe(80);
  });

  it('is empty for a URL it cannot parse', () => {
    expect(serverAttributes('not a url')).toEqual({});
  });
});

describe('upstreamAttributes and callAttributes', () => {
  it('build an upstream once, and a call on top of it without a missing feature', () => {
    const azure = upstream('https://[2001:db8::1]/openai');
    expect(upstreamAttributes(azure)).toBe(upstreamAttributes(azure));
    expect(Object.isFrozen(upstreamAttributes(azure))).toBe(true);
    expect(callAttributes(azure, 'gpt-4o', undefined)).toEqual({
      'gen_ai.provider.name': 'azure.ai.openai',
      'llm.upstream': 'azure-eu',
      'server.address': '2001:db8::1',
      'server.port': 443,
      'gen_ai.request.model': 'gpt-4o',
    });
    expect(callAttributes(azure, 'gpt-4o', 'faq')['llm.feature']).toBe('faq');
  });
});
