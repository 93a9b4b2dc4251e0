import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LlmJobsOptions } from './llm-jobs.options';

/**
 * A class that builds LlmJobsModule's options, for `forRootAsync({ useClass })` or
 * `forRootAsync({ useExisting })`.
 */
export interface LlmJobsOptionsFactory {
  createLlmJobsOptions(): LlmJobsOptions | Promise<LlmJobsOptions>;
}

export const {
  ConfigurableModuleClass: LlmJobsConfigurableModule,
  MODULE_OPTIONS_TOKEN: LLM_JOBS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<LlmJobsOptions>({ moduleName: 'LlmJobs' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLlmJobsOptions' satisfies keyof LlmJobsOptionsFactory)
  .build();

/** Injection token of the resolved {@link LlmJobsOptions}. */
export const LLM_JOBS_RESOLVED_OPTIONS = Symbol('LLM_JOBS_RESOLVED_OPTIONS');
