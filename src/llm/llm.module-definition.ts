import { ConfigurableModuleBuilder } from '@nestjs/common';
import { type LlmModuleOptions } from './llm-module.options';

/** Injection token of the extras `forRoot`/`forRootAsync` were given, checked at startup. */
export const LLM_MODULE_EXTRAS = Symbol('LLM_MODULE_EXTRAS');

/** Extras of `forRoot`/`forRootAsync` that shape the module rather than the client. */
export interface LlmModuleExtras {
  /** Register LlmClient for the whole application. @default true */
  isGlobal?: boolean;
}

/**
 * A class that builds LlmModule's options, for `forRootAsync({ useClass })` or
 * `forRootAsync({ useExisting })`, as `TypeOrmOptionsFactory` does for TypeORM.
 *
 * @example
 * @Injectable()
 * class LlmConfig implements LlmOptionsFactory {
 *   createLlmOptions(): LlmModuleOptions {
 *     return { upstreams: [{ name: 'openai', baseUrl: 'https://api.openai.com/v1', defaultModel: 'gpt-4o-mini' }] };
 *   }
 * }
 */
export interface LlmOptionsFactory {
  createLlmOptions(): LlmModuleOptions | Promise<LlmModuleOptions>;
}

export const {
  ConfigurableModuleClass: LlmConfigurableModule,
  MODULE_OPTIONS_TOKEN: LLM_MODULE_OPTIONS,
  OPTIONS_TYPE: LLM_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: LLM_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LlmModuleOptions>({ moduleName: 'Llm' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLlmOptions' satisfies keyof LlmOptionsFactory)
  .setExtras<LlmModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    // Only a real boolean: a truthy 'false' must not make the module global. Any other value is
    // reported at startup with the other options problems (resolveLlmOptions reads the extras).
    global: extras.isGlobal === true,
    providers: [
      ...(definition.providers ?? []),
      // forRoot's extras hold every option too: keep only the extras themselves.
      { provide: LLM_MODULE_EXTRAS, useValue: { isGlobal: extras.isGlobal } },
    ],
  }))
  .build();
