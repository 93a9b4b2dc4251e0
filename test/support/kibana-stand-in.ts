import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

/** A request the stand-in received. */
export interface KibanaRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A scripted answer: status and JSON body. */
export interface KibanaAnswer {
  status: number;
  body: unknown;
}

export const READY: KibanaAnswer = {
  status: 200,
  body: { version: { number: '8.15.0' }, status: { overall: { level: 'available' } } },
};
export const NOT_READY: KibanaAnswer = {
  status: 503,
  body: { status: { overall: { level: 'unavailable' } } },
};

/**
 * Kibana's `/api/status` and `/api/saved_objects/_import` on loopback, answering from a script:
 * `status` answers are used in turn (the last one repeats), `importAnswer` for every import.
 */
export class KibanaStandIn {
  readonly requests: KibanaRequest[] = [];
  status: KibanaAnswer[] = [READY];
  importAnswer: KibanaAnswer = { status: 200, body: { success: true, successCount: 1 } };

  private constructor(private readonly server: Server) {}

  static async start(): Promise<KibanaStandIn> {
    const server = createServer();
    const standIn = new KibanaStandIn(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const { method = '', url = '', headers } = req;
        standIn.requests.push({
          method,
          url,
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const answer = url.startsWith('/api/status')
          ? standIn.status.length > 1
            ? standIn.status.shift()!
            : standIn.status[0]!
          : standIn.importAnswer;
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  requestsTo(path: string): KibanaRequest[] {
    return this.requests.filter((r) => r.url.split('?')[0] === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Runs a Node script with only the given environment; resolves with its exit code and output. */
export function runScript(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
