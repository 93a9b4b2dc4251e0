import { Controller, Get, UseFilters, UseInterceptors } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { LlmHealthIndicator, LlmContextInterceptor } from '../llm/index';
import { HealthResultFilter } from './health-result.filter';

/**
 * Probes for orchestrators and monitors. None of them calls the LLM: they read the breakers'
 * state, so a health check never spends tokens or waits on a slow provider.
 */
// The LLM context, as on every route (the gateway's module interceptor is not global: see
// ChatCompletionsController).
@UseInterceptors(LlmContextInterceptor)
@Controller('health')
@UseFilters(HealthResultFilter)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly llm: LlmHealthIndicator,
  ) {}

  /** Liveness: the process serves HTTP. Never depends on the upstream, or an outage would restart every replica. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * Readiness: 200 `degraded` while a breaker is open (503 with LLM_READY_FAIL_WHEN_OPEN=true).
   * Failing it on every replica at once would remove the whole service from the load balancer.
   */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.llm.checkReadiness('llm')]);
  }

  /** For monitors and dashboards: every breaker's state, 503 while any is open. */
  @Get()
  @HealthCheck()
  breakers(): Promise<HealthCheckResult> {
    return this.health.check([() => this.llm.checkBreakers('llm')]);
  }
}
