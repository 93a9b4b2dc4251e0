import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/**
 * The gateway's Prometheus reader: registered with the OpenTelemetry SDK before Nest boots, and
 * served by `GET /metrics` on the gateway's own port (no second server).
 */
export const prometheusExporter = new PrometheusExporter({ preventServerStart: true });
