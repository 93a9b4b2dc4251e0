import { SetMetadata } from '@nestjs/common';

/** Metadata key of {@link LlmFeature}. */
export const LLM_FEATURE_KEY = 'nestjs-resilient-llm:feature';

/**
 * Names the product feature that LLM calls made while handling a request serve. On a class it
 * applies to every handler; on a handler it wins over the class. Read by the context interceptor.
 *
 * @example
 * @LlmFeature('support-chat')
 * @Controller('support')
 * export class SupportController {}
 */
export const LlmFeature = (featureName: string): ClassDecorator & MethodDecorator =>
  SetMetadata(LLM_FEATURE_KEY, featureName);
