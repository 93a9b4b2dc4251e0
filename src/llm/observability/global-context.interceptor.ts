import {
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Provider,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { type Observable } from 'rxjs';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { type ResolvedLlmOptions } from '../llm-module.options';
import { LlmContextInterceptor } from './llm-context.interceptor';

/** Used when `context.global` is off: the app registers the interceptor where it wants it. */
const passThrough: NestInterceptor = {
  intercept: (_context: ExecutionContext, next: CallHandler): Observable<unknown> => next.handle(),
};

/**
 * The app-wide interceptor slot. A factory rather than a conditional provider, so the choice can
 * come from `forRootAsync` options, which are known only at runtime.
 */
export const globalContextInterceptor: Provider = {
  provide: APP_INTERCEPTOR,
  useFactory: (options: ResolvedLlmOptions, interceptor: LlmContextInterceptor) =>
    options.context.global ? interceptor : passThrough,
  inject: [LLM_RESOLVED_OPTIONS, LlmContextInterceptor],
};
