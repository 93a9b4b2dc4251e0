import * as http from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CONNECT_TIMEOUT_CODE,
  createUpstreamAgents,
  withConnectTimeout,
} from './connect-timeout.agent';

describe('withConnectTimeout', () => {
  it('destroys a socket that never connects, with the connect-timeout code', async () => {
    const agent = new http.Agent();
    // A socket that is never told to connect stands in for a black-holed address.
    agent.createConnection = () => new Socket();
    withConnectTimeout(agent, 30);
    const socket = agent.createConnection({}, () => undefined) as Socket;
    const error = await new Promise<NodeJS.ErrnoException>((resolve) =>
      socket.once('error', resolve),
    );
    expect(error.code).toBe(CONNECT_TIMEOUT_CODE);
    expect(socket.destroyed).toBe(true);
    agent.destroy();
  });

  it('leaves a socket alone once it connected', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agents = createUpstreamAgents(30);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, agent: agents.http }, (res) => {
            res.setEncoding('utf8');
            let text = '';
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(body).toBe('ok');
      await sleep(50); // past the connect timeout: the kept-alive socket must survive
      const sockets = Object.values(agents.http.freeSockets).flat();
      expect(sockets.length).toBe(1);
      expect(sockets[0]?.destroyed).toBe(false);
    } finally {
      agents.http.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
