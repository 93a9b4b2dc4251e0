import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Param,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { LlmContextInterceptor } from '../llm/index';
import { GATEWAY_CONFIG } from './gateway.constants';
import type { GatewayConfig } from './gateway.config';
import { type PlatformRequest, type PlatformResponse, rawResponse } from './http-exchange';
import { requestIdOf } from './inbound-call.options';
import { InvalidRequestError } from './invalid-request.error';

/** One entry of OpenAI's model list. */
export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/**
 * OpenAI's `GET /v1/models`: the models this gateway advertises (LLM_MODEL, then LLM_MODELS).
 * Served from configuration: asking the upstream would spend its rate limit on a static list.
 */
// The LLM context, as on every route (the gateway's module interceptor is not global: see
// ChatCompletionsController).
@UseInterceptors(LlmContextInterceptor)
@Controller('v1/models')
export class ModelsController {
  // OpenAI's `created` is when the model was published; the gateway knows only when it started.
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get()
  list(
    @Req() req: PlatformRequest,
    @Res({ passthrough: true }) res: PlatformResponse,
  ): { object: 'list'; data: OpenAiModel[] } {
    withRequestId(req, res);
    return { object: 'list', data: this.config.models.map((id) => this.model(id)) };
  }

  @Get(':id')
  get(
    @Param('id') id: string,
    @Req() req: PlatformRequest,
    @Res({ passthrough: true }) res: PlatformResponse,
  ): OpenAiModel {
    withRequestId(req, res);
    if (!this.config.models.includes(id)) {
      const message = `The model '${id}' is not served by this gateway (see GET /v1/models).`;
      throw new InvalidRequestError(message, 'model', 'model_not_found', HttpStatus.NOT_FOUND);
    }
    return this.model(id);
  }

  private model(id: string): OpenAiModel {
    return { id, object: 'model', created: this.created, owned_by: this.config.llm.provider };
  }
}

/** OpenAI answers every request with an `x-request-id`; SDKs expose it (`_request_id`). */
function withRequestId(req: PlatformRequest, res: PlatformResponse): void {
  const reply = res as { header?: (name: string, value: string) => unknown };
  // Fastify's reply writes its own headers (set on Node's response, they would be lost).
  if (typeof reply.header === 'function') reply.header('x-request-id', requestIdOf(req));
  else rawResponse(res).setHeader('x-request-id', requestIdOf(req));
}
