import { DynamicModule, Module } from '@nestjs/common';
import type { GatewayConfig } from '../gateway/gateway.config';
import { toLlmJobsOptions } from '../gateway/llm-jobs-options.factory';
import { toLlmModuleOptions } from '../gateway/llm-options.factory';
import { LlmJobsModule, LlmModule } from '../llm/index';

/**
 * A job worker on its own: LlmModule with the gateway's settings (the same upstream, policies and
 * Redis budgets, so workers and gateway replicas share one limiter) and LlmJobsModule with its
 * worker on. No HTTP: it only consumes the queue.
 */
@Module({})
export class WorkerModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        LlmModule.forRoot(toLlmModuleOptions(config)),
        LlmJobsModule.forRoot(toLlmJobsOptions(config, true)),
      ],
    };
  }
}
