import * as path from 'node:path';

/** The repository root, the working directory of every child the benchmarks start. */
export const REPO_ROOT = path.join(__dirname, '..', '..');

/** What the gateway prints once it listens; group 1 is its URL. */
export const GATEWAY_LISTENING = /Gateway listening on (http:\/\/\S+?) /;

/** Variables a child inherits: enough to run node, nothing that configures the gateway or worker. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

/**
 * The environment of a gateway or worker child: only the given settings, so no OTEL_* or
 * ELASTICSEARCH_* of the caller's can send data anywhere; TypeScript through @swc-node/register,
 * traces not exported.
 */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = Object.fromEntries(INHERITED.map((name) => [name, process.env[name]]));
  return {
    ...base,
    ...env,
    NO_COLOR: '1',
    SWC_NODE_IGNORE_DYNAMIC: '1',
    OTEL_TRACES_EXPORTER: 'none',
  };
}

/** A gateway child's environment: `childEnv` on a free loopback port. */
export function gatewayChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...childEnv(env), PORT: '0', HOST: '127.0.0.1' };
}
