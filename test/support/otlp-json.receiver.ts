import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/JSON export carries it, flattened with its resource's service name. */
export interface ReceivedSpan {
  service?: string;
  scope: string;
  name: string;
  /** OTLP numbering: 1 internal, 2 server, 3 client. */
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

/** A stand-in OpenTelemetry collector on loopback: accepts OTLP/JSON trace exports. */
export class OtlpJsonReceiver {
  readonly spans: ReceivedSpan[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpJsonReceiver> {
    const receiver = new OtlpJsonReceiver(createServer());
    receiver.server.on('request', (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        if (req.url === '/v1/traces') receiver.collect(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** Base URL, e.g. `http://127.0.0.1:41234` (traces are POSTed to `/v1/traces`). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private collect(body: string): void {
    type Export = {
      resourceSpans?: Array<{
        resource?: { attributes?: OtlpAttribute[] };
        scopeSpans?: Array<{ scope?: { name?: string }; spans?: Array<Record<string, unknown>> }>;
      }>;
    };
    const parsed = JSON.parse(body) as Export;
    for (const resource of parsed.resourceSpans ?? []) {
      const service = attributes(resource.resource?.attributes)['service.name'] as string;
      for (const scope of resource.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            scope: scope.scope?.name ?? '',
            name: span.name as string,
            kind: span.kind as number,
            traceId: span.traceId as string,
            spanId: span.spanId as string,
            parentSpanId: (span.parentSpanId as string) || undefined,
            attributes: attributes(span.attributes as OtlpAttribute[]),
          });
        }
      }
    }
  }
}

function attributes(list: OtlpAttribute[] = []): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const { key, value } of list) {
    const raw = Object.values(value)[0];
    result[key] = 'intValue' in value ? Number(raw) : raw;
  }
  return result;
}
