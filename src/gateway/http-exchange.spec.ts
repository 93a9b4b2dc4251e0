import { createServer, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { holdHeader, send, sendJson, writeHead } from './http-exchange';

/** The raw bytes of one response to `GET /`, its Date header's value blanked. */
async function rawResponse(answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let out = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (out += chunk));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    return text.replace(/\r\nDate: [^\r]+/, '\r\nDate: -');
  } finally {
    server.close();
  }
}

/** What the gateway did before: every header set on the response, then `end`. */
function setEach(
  res: ServerResponse,
  status: number,
  held: [string, string][],
  headers: OutgoingHttpHeaders,
  text: string,
): void {
  for (const [name, value] of held) res.setHeader(name, value);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) res.setHeader(name, value);
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

describe('sendJson / send / writeHead', () => {
  const body = { answer: 'Grüße' };
  const text = JSON.stringify(body);
  const headers: OutgoingHttpHeaders = {
    'x-llm-attempts': '2',
    'Retry-After': 3,
    'set-cookie': ['a=1', 'b=2'],
    'x-skipped': undefined,
    // Set again in another case: keeps the held header's place, with this spelling and value.
    'X-Request-Id': 'r-2',
  };

  it('write the bytes setting each header did, the held ones first, when nothing was set before', async () => {
    const expected = await rawResponse((res) =>
      setEach(res, 429, [['x-request-id', 'r-1']], headers, text),
    );
    const actual = await rawResponse((res) => {
      holdHeader(res, 'x-request-id', 'r-1');
      sendJson(res, 429, body, headers);
    });
    expect(actual).toBe(expected);
    expect(actual).toMatch(
      /^HTTP\/1\.1 429 Too Many Requests\r\nX-Request-Id: r-2\r\nx-llm-attempts: 2\r\nRetry-After: 3\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-type: application\/json; charset=utf-8\r\ncontent-length: 20\r\n/,
    );
  });

  it('write them after headers set before (CORS), as setting each did', async () => {
    const cors = (res: ServerResponse): void => {
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'x-request-id');
      // Set again below: it keeps this place.
      res.setHeader('X-LLM-Attempts', '0');
    };
    const expected = await rawResponse((res) => {
      cors(res);
      setEach(res, 200, [['x-request-id', 'r-1']], headers, text);
    });
    const actual = await rawResponse((res) => {
      cors(res);
      holdHeader(res, 'x-request-id', 'r-1');
      send(res, 200, 'application/json; charset=utf-8', text, headers);
    });
    expect(actual).toBe(expected);
    expect(actual).toMatch(
      /^HTTP\/1\.1 200 OK\r\nVary: Origin\r\nAccess-Control-Expose-Headers: x-request-id\r\nx-llm-attempts: 2\r\n/,
    );
  });

  it('writeHead sets a streamed answer’s head, which leaves with its first chunk', async () => {
    const expected = await rawResponse((res) => {
      res.setHeader('x-request-id', 'r-1');
      res.statusCode = 200;
      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      res.write('data: 1\n\n');
      res.end('data: [DONE]\n\n');
    });
    const actual = await rawResponse((res) => {
      holdHeader(res, 'x-request-id', 'r-1');
      writeHead(res, 200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write('data: 1\n\n');
      res.end('data: [DONE]\n\n');
    });
    expect(actual).toBe(expected);
    expect(actual).toContain('\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n');
  });
});
