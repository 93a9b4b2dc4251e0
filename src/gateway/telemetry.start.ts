import { startTelemetry } from './telemetry.sdk';

/**
 * The gateway's OpenTelemetry SDK, started as this module loads. `main.ts` imports it before
 * anything else: imports run in order, so the instrumentations are in place before express, Nest
 * and the HTTP transport are required.
 */
export const gatewayTelemetry = startTelemetry();
