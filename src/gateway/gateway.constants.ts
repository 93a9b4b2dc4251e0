/**
 * Largest JSON body accepted. Express' default of 100 kB is far below a long conversation or an
 * image sent as base64; 10 MB still bounds what one request can make the gateway buffer.
 */
export const GATEWAY_BODY_LIMIT = '10mb';
/** {@link GATEWAY_BODY_LIMIT} in bytes, as Fastify takes it (Express reads `10mb` as 10 × 1024²). */
export const GATEWAY_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
/** Largest body limit `GATEWAY_BODY_LIMIT_MB` may set: OpenAI's own is 50 MB per request. */
export const GATEWAY_MAX_BODY_LIMIT_MB = 100;

/** A body limit in bytes as the gateway's 413 names it: `10mb`, as Express' parser spells it. */
export function bodyLimitText(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return Number.isInteger(mb) ? `${mb}mb` : `${bytes} bytes`;
}

/** Injection token of the {@link GatewayConfig} the app was built with. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Injection token of the built-in simulator, when the gateway started one. */
export const BUILT_IN_SIMULATOR = Symbol('BUILT_IN_SIMULATOR');
