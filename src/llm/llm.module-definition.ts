import { ConfigurableModuleBuilder } from '@nestjs/common';
import { type LlmModuleOptions } from './llm-module.options';

/** Extras of `forRoot`/`forRootAsync` that shape the module rather than the client. */
export interface LlmModuleExtras {
  /** Register LlmClient for the whole application. @default true */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: LlmConfigurableModule,
  MODULE_OPTIONS_TOKEN: LLM_MODULE_OPTIONS,
  OPTIONS_TYPE: LLM_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: LLM_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LlmModuleOptions>({ moduleName: 'Llm' })
  .setClassMethodName('forRoot')
  .setExtras<LlmModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
