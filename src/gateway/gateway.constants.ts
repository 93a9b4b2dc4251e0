/**
 * Largest JSON body accepted. Express' default of 100 kB is far below a long conversation or an
 * image sent as base64; 10 MB still bounds what one request can make the gateway buffer.
 */
export const GATEWAY_BODY_LIMIT = '10mb';
/** {@link GATEWAY_BODY_LIMIT} in bytes, as Fastify takes it (Express reads `10mb` as 10 × 1024²). */
export const GATEWAY_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/** Injection token of the {@link GatewayConfig} the app was built with. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Injection token of the built-in simulator, when the gateway started one. */
export const BUILT_IN_SIMULATOR = Symbol('BUILT_IN_SIMULATOR');
