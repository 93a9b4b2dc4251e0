import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChatCallContext, ChatCompletionsController } from './chat-completions.controller';

describe('ChatCallContext', () => {
  const req = { url: '/v1/chat/completions' } as IncomingMessage;
  const res = { statusCode: 200 } as ServerResponse;
  // What Nest gives an interceptor of the chat handler: the context ChatCallContext stands for.
  const nest = new ExecutionContextHost(
    [req, res],
    ChatCompletionsController,
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the handler as a metadata key
    ChatCompletionsController.prototype.create,
  );
  const context = new ChatCallContext(req, res);

  it("answers what Nest's execution context of the chat handler answers", () => {
    expect(context.getType()).toBe(nest.getType());
    expect(context.getClass()).toBe(nest.getClass());
    expect(context.getHandler()).toBe(nest.getHandler());
    expect(context.getArgs()).toEqual(nest.getArgs());
    for (const index of [0, 1, 2]) {
      expect(context.getArgByIndex(index)).toBe(nest.getArgByIndex(index));
    }
  });

  it('is its own HTTP view: the request, the response, no next', () => {
    const http = context.switchToHttp();
    expect(http).toBe(context.switchToHttp());
    expect(http.getRequest()).toBe(req);
    expect(http.getResponse()).toBe(res);
    expect(http.getNext()).toBe(nest.switchToHttp().getNext());
  });

  it("gives the RPC and WebSocket views of Nest's context over the same arguments", () => {
    const rpc = context.switchToRpc();
    expect([rpc.getData(), rpc.getContext()]).toEqual([req, res]);
    const ws = context.switchToWs();
    expect([ws.getClient(), ws.getData(), ws.getPattern()]).toEqual([req, res, res]);
    // The HTTP view is unchanged by them.
    expect(context.switchToHttp().getRequest()).toBe(req);
  });
});
