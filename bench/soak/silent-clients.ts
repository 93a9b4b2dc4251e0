import { connect, type Socket } from 'node:net';

/** Connections that never finish a request, as slow or silent clients hold them. */
export interface SilentClients {
  /** How many the server has closed so far. */
  closedByServer(): number;
  /** Closes the rest. */
  destroy(): void;
}

/**
 * Opens `count` connections to `url`: half send nothing at all, half send the start of a request
 * and stop. The server's header and request timeouts should close every one of them.
 */
export function openSilentClients(url: string, count: number): SilentClients {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    socket.resume(); // reads the server's 408, so its close reaches us
    socket.on('close', () => closed++);
    if (i % 2 === 1) socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\n');
    sockets.push(socket);
  }
  return {
    closedByServer: () => closed,
    destroy: () => sockets.forEach((socket) => socket.destroy()),
  };
}
