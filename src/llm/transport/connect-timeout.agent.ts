import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';

/** Error code of a TCP connect that took longer than `timeouts.connectMs`. */
export const CONNECT_TIMEOUT_CODE = 'LLM_CONNECT_TIMEOUT';

function guardConnect(socket: Duplex, connectMs: number): Duplex {
  const timer = setTimeout(() => {
    const error = Object.assign(new Error(`TCP connect took longer than ${connectMs} ms`), {
      code: CONNECT_TIMEOUT_CODE,
    });
    socket.destroy(error);
  }, connectMs);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
  return socket;
}

/**
 * Gives an agent's new sockets a connect timeout. Node's agents have none (their `timeout` is
 * socket idle time), so a black-holed address would hold an attempt until the attempt timeout.
 */
export function withConnectTimeout<A extends http.Agent>(agent: A, connectMs: number): A {
  const createConnection = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) =>
    guardConnect(createConnection(options, callback) as Duplex, connectMs);
  return agent;
}

/** The variables Node's agents read a proxy from (`NO_PROXY` only narrows them down). */
const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'] as const;

/**
 * Keep-alive agents for one upstream, both schemes, with the connect timeout. When the
 * environment names a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, honouring `NO_PROXY`), the agents send
 * through it: Node's `proxyEnv` agent option (Node >= 22.21 and >= 24.5; older versions ignore it).
 * `proxied` says whether it named one.
 */
export function createUpstreamAgents(
  connectMs: number,
  env: NodeJS.ProcessEnv = process.env,
): { http: http.Agent; https: https.Agent; proxied: boolean } {
  // LIFO reuses the most recently used socket, so idle ones age out instead of all staying warm.
  const options: http.AgentOptions & { proxyEnv?: NodeJS.ProcessEnv } = {
    keepAlive: true,
    scheduling: 'lifo',
  };
  const proxied = PROXY_VARIABLES.some((name) => env[name]);
  if (proxied) options.proxyEnv = env;
  return {
    http: withConnectTimeout(new http.Agent(options), connectMs),
    https: withConnectTimeout(new https.Agent(options), connectMs),
    proxied,
  };
}
