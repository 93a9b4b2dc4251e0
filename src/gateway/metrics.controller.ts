import { Controller, Get, Logger, Res, UseInterceptors } from '@nestjs/common';
import { LlmContextInterceptor } from '../llm/index';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';
import { rawResponse, send, type PlatformResponse } from './http-exchange';
import { prometheusExporter } from './prometheus-exporter';

/** The Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * `GET /metrics` for Prometheus, on the gateway's own port: the OpenTelemetry metrics of LlmModule
 * (calls, attempts, retries, breakers, bulkheads, business events), read from
 * {@link prometheusExporter}, which the telemetry bootstrap registers before Nest boots.
 */
// The LLM context, as on every route (the gateway's module interceptor is not global: see
// ChatCompletionsController).
@UseInterceptors(LlmContextInterceptor)
@Controller('metrics')
export class MetricsController {
  private readonly logger = new Logger('Metrics');
  // The exporter's own defaults (no prefix, no timestamps), as `prometheusExporter` is built.
  private readonly serializer = new PrometheusSerializer();

  /**
   * Answers 503 when no MeterProvider reads through the exporter, so Prometheus marks the target
   * down (`up == 0`) instead of scraping an empty page that looks healthy.
   */
  @Get()
  async scrape(@Res() reply: PlatformResponse): Promise<void> {
    const res = rawResponse(reply);
    let collected: CollectionResult;
    try {
      collected = await prometheusExporter.collect();
    } catch (error) {
      send(
        res,
        503,
        'text/plain; charset=utf-8',
        `Metrics are not available (${String(error)}). ` +
          (/^\s*true\s*$/i.test(process.env.OTEL_SDK_DISABLED ?? '')
            ? 'OTEL_SDK_DISABLED=true turns off the OpenTelemetry SDK, and with it the metrics ' +
              'this page serves: unset it to serve them.\n'
            : `Register prometheusExporter from src/gateway/prometheus-exporter.ts as a metric ` +
              `reader of the OpenTelemetry SDK before the gateway boots.\n`),
      );
      return;
    }
    if (collected.errors.length > 0) {
      // One failing observable callback must not hide every other series: serve what was read.
      this.logger.warn(
        `Some metrics could not be collected: ${collected.errors.map(String).join('; ')}`,
      );
    }
    send(res, 200, PROMETHEUS_CONTENT_TYPE, this.serializer.serialize(collected.resourceMetrics));
  }
}
