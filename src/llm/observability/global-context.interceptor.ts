import { type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { type ResolvedLlmOptions } from '../llm-module.options';
import { LlmContextInterceptor } from './llm-context.interceptor';

/**
 * The app-wide interceptor slot. A factory rather than a conditional provider, so the choice can
 * come from `forRootAsync` options, which are known only at runtime. With `context.global` off
 * it gives nothing, which Nest skips: a route without interceptors runs without Nest's rxjs
 * pipeline (a pass-through interceptor would still cost every request one).
 */
export const globalContextInterceptor: Provider = {
  provide: APP_INTERCEPTOR,
  useFactory: (options: ResolvedLlmOptions, interceptor: LlmContextInterceptor) =>
    options.context.global ? interceptor : null,
  inject: [LLM_RESOLVED_OPTIONS, LlmContextInterceptor],
};
