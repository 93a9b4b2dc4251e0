import { Controller, Get, HttpStatus, Inject, Param, UseInterceptors } from '@nestjs/common';
import { LlmContextInterceptor } from '../llm/index';
import { GATEWAY_CONFIG } from './gateway.constants';
import type { GatewayConfig } from './gateway.config';
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
  list(): { object: 'list'; data: OpenAiModel[] } {
    return { object: 'list', data: this.config.models.map((id) => this.model(id)) };
  }

  @Get(':id')
  get(@Param('id') id: string): OpenAiModel {
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
