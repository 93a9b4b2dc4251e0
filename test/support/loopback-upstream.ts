import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An upstream a test writes by hand, on a free loopback port. */
export interface LoopbackUpstream {
  /** e.g. `http://127.0.0.1:41234/v1` */
  baseUrl: string;
  server: Server;
  /** Closes the server and every connection still open. */
  close(): Promise<void>;
}

/**
 * Starts `handler` as an HTTP server on a free loopback port, for tests whose upstream answers
 * what the simulator cannot (bunched reads, hand-spelled JSON).
 *
 * @example
 * const upstream = await startLoopbackUpstream((req, res) => res.end('{}'));
 * await startGatewayApp({ LLM_BASE_URL: upstream.baseUrl, LLM_API_KEY: 'sk-test' });
 */
export async function startLoopbackUpstream(handler: RequestListener): Promise<LoopbackUpstream> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
