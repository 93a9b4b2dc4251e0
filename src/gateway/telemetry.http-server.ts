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
  // Whether the server's `emit` is the instrumentation's, looked at again only when it changes.
  let emit: unknown;
  let instrumented = false;
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const telemetry = builtInHttpTelemetry();
    if (!telemetry) return;
    const current: unknown = Reflect.get(server, 'emit');
    if (current !== emit) {
      emit = current;
      instrumented = isInstrumented(current);
    }
    if (instrumented || isUntracedPath(req.url)) return;
    telemetry.serverRequest(req, res, scheme);
  });
}

/**
 * Whether a request's URL is one of {@link UNTRACED_PATHS}; the expression runs only for a path
 * that starts with their first letters (`/h`, `/m`), not for every chat call.
 */
export function isUntracedPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  const first = url.charCodeAt(1);
  return (first === 0x68 || first === 0x6d) && UNTRACED_PATHS.test(url);
}
