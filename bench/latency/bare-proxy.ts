import * as http from 'node:http';

/**
 * The floor of any JSON-aware gateway: a bare Node proxy that parses the request body, re-
 * serialises it, forwards it over a keep-alive agent, and parses and re-serialises the answer.
 * Streams (`"stream": true`) are piped through chunk by chunk. Run as a child process:
 * `UPSTREAM=http://127.0.0.1:4010/v1 node -r @swc-node/register bench/latency/bare-proxy.ts`;
 * prints `bare proxy listening on <url>`.
 *
 * `BARE_BUSY_US` (default 0: the floor as it is) makes it spend that much more CPU per plain call,
 * in a busy loop: by default two thirds before the upstream request and one third before the
 * answer, about as this gateway's extra work falls; `BARE_BUSY_IN_SHARE` (0 to 1) sets the share
 * spent before the upstream request, and `BARE_BUSY_AFTER_SHARE` (default 0) the share spent
 * after the answer is written, on the next turn of the event loop (`setImmediate`).
 * `throughput-by-cpu.ts` uses them to ask whether CPU per call alone explains a proxy's throughput
 * at 64 in flight, and whether it matters where it falls.
 */
const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:4010/v1');
const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
const busyNs = Math.round(Number(process.env.BARE_BUSY_US ?? 0) * 1000);
const inShare = Number(process.env.BARE_BUSY_IN_SHARE ?? 2 / 3);
const afterShare = Number(process.env.BARE_BUSY_AFTER_SHARE ?? 0);
const busyInNs = BigInt(Math.round(busyNs * inShare));
const busyAfterNs = BigInt(Math.round(busyNs * afterShare));
const busyOutNs = BigInt(busyNs) - busyInNs - busyAfterNs;

/** Spends `ns` nanoseconds of CPU in a busy loop. */
function spin(ns: bigint): void {
  const until = process.hrtime.bigint() + ns;
  while (process.hrtime.bigint() < until);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stream?: boolean };
    if (busyInNs > 0n && body.stream !== true) spin(busyInNs);
    const payload = JSON.stringify(body);
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: 'POST',
        path: `${upstream.pathname.replace(/\/$/, '')}${(req.url ?? '').replace(/^\/v1/, '')}`,
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: req.headers.authorization ?? '',
        },
      },
      (answer) => {
        if (body.stream === true) {
          res.writeHead(answer.statusCode ?? 502, {
            'content-type': answer.headers['content-type'] ?? 'text/event-stream',
          });
          answer.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const text = JSON.stringify(JSON.parse(Buffer.concat(parts).toString('utf8')));
          if (busyOutNs > 0n) spin(busyOutNs);
          res.writeHead(answer.statusCode ?? 502, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
          if (busyAfterNs > 0n) setImmediate(spin, busyAfterNs);
        });
      },
    );
    out.on('error', () => res.destroy());
    out.end(payload);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`bare proxy listening on http://127.0.0.1:${address.port}`);
});
process.once('SIGTERM', () => process.exit(0));
