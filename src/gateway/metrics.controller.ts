import { Controller, Get, Logger, Res } from '@nestjs/common';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';
import type { Response } from 'express';
import { prometheusExporter } from './prometheus-exporter';

/** The Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * `GET /metrics` for Prometheus, on the gateway's own port: the OpenTelemetry metrics of LlmModule
 * (calls, attempts, retries, breakers, bulkheads, business events), read from
 * {@link prometheusExporter}, which the telemetry bootstrap registers before Nest boots.
 */
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
  async scrape(@Res() res: Response): Promise<void> {
    let collected: CollectionResult;
    try {
      collected = await prometheusExporter.collect();
    } catch (error) {
      res
        .status(503)
        .type('text/plain')
        .send(
          `Metrics are not available (${String(error)}). Register prometheusExporter from ` +
            `src/gateway/prometheus-exporter.ts as a metric reader of the OpenTelemetry SDK ` +
            `before the gateway boots.\n`,
        );
      return;
    }
    if (collected.errors.length > 0) {
      // One failing observable callback must not hide every other series: serve what was read.
      this.logger.warn(
        `Some metrics could not be collected: ${collected.errors.map(String).join('; ')}`,
      );
    }
    res
      .status(200)
      .setHeader('content-type', PROMETHEUS_CONTENT_TYPE)
      .send(this.serializer.serialize(collected.resourceMetrics));
  }
}
