import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { builtInHttpTelemetry, isInstrumented } from '../llm/transport/http-telemetry';

/** Probes and scrapes: no server span, no `http.server.request.duration` either. */
export const UNTRACED_PATHS = /^\/(?:health|metrics)(?:[/?]|$)/;

/**
 * Records `http.server.request.duration` for the gateway's requests when the built-in HTTP
 * telemetry is on (the gateway exports no traces, so the HTTP instrumentation is not loaded);
 * with the instrumentation on, it records the metric itself and this does nothing. A listener
 * first in line on `request`, so it starts the clock where the instrumentation did.
 */
export function recordHttpServerMetrics(server: Server): void {
  const scheme = server instanceof HttpsServer ? 'https' : 'http';
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const telemetry = builtInHttpTelemetry();
    if (
      !telemetry ||
      isInstrumented(Reflect.get(server, 'emit')) ||
      UNTRACED_PATHS.test(req.url ?? '')
    )
      return;
    telemetry.serverRequest(req, res, scheme);
  });
}
