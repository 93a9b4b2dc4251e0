import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';

/** Error code of a TCP connect that took longer than `timeouts.connectMs`. */
export const CONNECT_TIMEOUT_CODE = 'LLM_CONNECT_TIMEOUT';

// Node's agents have no connect timeout (their `timeout` is socket idle time), so a black-holed
// address would hold an attempt until the attempt timeout. Each new socket gets a connect timer.
function withConnectTimeout(socket: Duplex, connectMs: number): Duplex {
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

/** Keep-alive HTTP agent whose new sockets fail after `connectMs` without a TCP connection. */
export class ConnectTimeoutHttpAgent extends http.Agent {
  constructor(private readonly connectMs: number) {
    super({ keepAlive: true, scheduling: 'lifo' });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex {
    const socket = super.createConnection(options, callback) as Duplex;
    return withConnectTimeout(socket, this.connectMs);
  }
}

/** Keep-alive HTTPS agent with the same connect timeout. */
export class ConnectTimeoutHttpsAgent extends https.Agent {
  constructor(private readonly connectMs: number) {
    super({ keepAlive: true, scheduling: 'lifo' });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex {
    const socket = super.createConnection(options, callback) as Duplex;
    return withConnectTimeout(socket, this.connectMs);
  }
}
