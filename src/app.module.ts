import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { BuiltInSimulatorShutdown } from './gateway/built-in-simulator';
import { ChatCompletionsController } from './gateway/chat-completions.controller';
import type { GatewayConfig } from './gateway/gateway.config';
import { BUILT_IN_SIMULATOR, GATEWAY_CONFIG } from './gateway/gateway.constants';
import { HealthController } from './gateway/health.controller';
import { JobsController } from './gateway/jobs.controller';
import { toLlmJobsOptions } from './gateway/llm-jobs-options.factory';
import { toLlmModuleOptions } from './gateway/llm-options.factory';
import { MetricsController } from './gateway/metrics.controller';
import { ModelsController } from './gateway/models.controller';
import { OpenAiErrorFilter } from './gateway/openai-error.filter';
import { LlmJobsModule, LlmModule } from './llm/index';
import type { UpstreamSimulator } from './simulator/upstream-simulator';

/** Extras of {@link AppModule.forRoot}. */
export interface AppModuleExtras {
  /** The built-in simulator the gateway uses as upstream; closed when the app shuts down. */
  simulator?: UpstreamSimulator;
}

/**
 * The gateway: an OpenAI-compatible API in front of one upstream, made resilient by LlmModule,
 * with health probes for orchestrators.
 *
 * @example
 * NestFactory.create(AppModule.forRoot(loadGatewayConfig(process.env)))
 */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, extras: AppModuleExtras = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LlmModule.forRoot(toLlmModuleOptions(config)),
        // LlmModule logs every breaker transition once; terminus would log an open breaker as an
        // error on every /health poll.
        TerminusModule.forRoot({ logger: false }),
        // Durable jobs when RABBITMQ_URL is set: Prefer: respond-async and /v1/jobs.
        ...(config.jobs ? [LlmJobsModule.forRoot(toLlmJobsOptions(config))] : []),
      ],
      controllers: [
        ChatCompletionsController,
        ModelsController,
        HealthController,
        MetricsController,
        ...(config.jobs ? [JobsController] : []),
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: BUILT_IN_SIMULATOR, useValue: extras.simulator },
        { provide: APP_FILTER, useClass: OpenAiErrorFilter },
        BuiltInSimulatorShutdown,
      ],
    };
  }
}
