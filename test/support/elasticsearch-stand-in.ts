import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A document as the stand-in stored it, with the `_id` it was created under. */
export type StoredDocument = Record<string, unknown> & { _id?: string };

/** How the stand-in answers bulk requests. */
export type Reject429 = false | 'items' | 'request';

/**
 * Just enough of Elasticsearch for the real `@elastic/elasticsearch` client to talk to over HTTP
 * on loopback: `GET /`, component and index templates, and `_bulk` with per-item results. Every
 * answer carries `x-elastic-product: Elasticsearch`, which the client checks.
 *
 * Faults: `setDown(true)` closes the port (connections are refused) and `setDown(false)` reopens
 * the same one; `delayMs` delays every answer; `reject429` answers each bulk item, or the whole
 * request, with 429; `itemStatus` picks a status per document (e.g. 400 for a mapping error).
 *
 * @example
 * const es = await ElasticsearchStandIn.start();
 * // LlmModule.forRoot({ ..., events: { elasticsearch: { node: es.url } } })
 * await es.waitForDocs('logs-llm.calls-default', 1);
 */
export class ElasticsearchStandIn {
  delayMs = 0;
  reject429: Reject429 = false;
  itemStatus?: (doc: StoredDocument) => number | undefined;
  /** Answers template PUTs with this status instead of storing them, e.g. 403. */
  templateStatus?: number;
  /**
   * Whether answers say `x-elastic-product: Elasticsearch`; false plays OpenSearch, or a proxy
   * that strips the header (the client then refuses every answer).
   */
  static productHeader = true;
  /** Bulk requests received (answered or not). */
  bulkRequests = 0;
  /** The most bulk requests ever in progress at once. */
  maxConcurrentBulks = 0;
  private bulksInProgress = 0;
  readonly componentTemplates = new Map<string, Record<string, unknown>>();
  readonly indexTemplates = new Map<string, Record<string, unknown>>();
  /** Every request line, e.g. `PUT /_index_template/logs-llm.calls`. */
  readonly requests: string[] = [];
  private readonly streams = new Map<string, StoredDocument[]>();
  private server: Server;
  private port = 0;
  /** Ends pending delays when the stand-in goes down, so nothing outlives a test. */
  private downSignal = new AbortController();

  private constructor() {
    this.server = this.createHttpServer();
  }

  static async start(options: { down?: boolean } = {}): Promise<ElasticsearchStandIn> {
    const standIn = new ElasticsearchStandIn();
    await standIn.listen();
    if (options.down) await standIn.setDown(true);
    return standIn;
  }

  /** The node URL to give the client. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get down(): boolean {
    return !this.server.listening;
  }

  /** Refuses connections (closing open ones), or accepts them again on the same port. */
  async setDown(down: boolean): Promise<void> {
    if (down === this.down) return;
    if (down) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      this.downSignal.abort();
      await closed;
    } else {
      this.downSignal = new AbortController();
      this.server = this.createHttpServer();
      await this.listen();
    }
  }

  /** Documents stored in a data stream, oldest first. */
  docs(stream: string): StoredDocument[] {
    return this.streams.get(stream) ?? [];
  }

  /** Waits until `stream` holds at least `count` documents; fails after `timeoutMs`. */
  async waitForDocs(stream: string, count: number, timeoutMs = 3000): Promise<StoredDocument[]> {
    const until = Date.now() + timeoutMs;
    while (this.docs(stream).length < count) {
      if (Date.now() > until) {
        throw new Error(
          `expected ${count} documents in ${stream}, got ${this.docs(stream).length}`,
        );
      }
      await sleep(10);
    }
    return this.docs(stream);
  }

  /** Waits until `check()` is true; fails after `timeoutMs`. */
  async waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    await this.setDown(true);
  }

  private createHttpServer(): Server {
    return createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed)
          reply(res, 500, { error: { type: 'stand_in_error', reason: String(error) } });
      });
    });
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push(`${req.method} ${path}`);
    if (!path.endsWith('/_bulk')) return this.answer(req, res, path, body);
    this.bulkRequests++;
    this.maxConcurrentBulks = Math.max(this.maxConcurrentBulks, ++this.bulksInProgress);
    try {
      await this.answer(req, res, path, body);
    } finally {
      this.bulksInProgress--;
    }
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    body: string,
  ): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs, undefined, { signal: this.downSignal.signal });
    if (req.method === 'GET' && path === '/') {
      return reply(res, 200, {
        name: 'stand-in',
        cluster_name: 'stand-in',
        version: { number: '9.1.0' },
        tagline: 'You Know, for Search',
      });
    }
    const template = /^\/_(component|index)_template\/([^/]+)$/.exec(path);
    if (template && req.method === 'PUT') {
      if (this.templateStatus) {
        return reply(res, this.templateStatus, {
          error: { type: 'security_exception', reason: 'action unauthorized' },
          status: this.templateStatus,
        });
      }
      const store = template[1] === 'component' ? this.componentTemplates : this.indexTemplates;
      store.set(decodeURIComponent(template[2]!), JSON.parse(body) as Record<string, unknown>);
      return reply(res, 200, { acknowledged: true });
    }
    const bulk = /^(?:\/([^/]+))?\/_bulk$/.exec(path);
    if (bulk && (req.method === 'POST' || req.method === 'PUT')) {
      if (this.reject429 === 'request') {
        return reply(res, 429, {
          error: { type: 'es_rejected_execution_exception', reason: 'queue full' },
          status: 429,
        });
      }
      return reply(res, 200, this.bulk(bulk[1] ? decodeURIComponent(bulk[1]) : undefined, body));
    }
    reply(res, 404, {
      error: { type: 'resource_not_found_exception', reason: `${req.method} ${path}` },
      status: 404,
    });
  }

  /** Applies NDJSON `create`/`index` actions; one result per action, in order. */
  private bulk(pathIndex: string | undefined, body: string): Record<string, unknown> {
    const lines = body.split('\n').filter((line) => line.trim() !== '');
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!) as Record<string, { _index?: string; _id?: string }>;
      const [op, meta] = Object.entries(action)[0]!;
      const doc = JSON.parse(lines[i + 1] ?? '{}') as StoredDocument;
      const stream = meta._index ?? pathIndex ?? '(none)';
      const docs = this.streams.get(stream) ?? [];
      const status = this.reject429 === 'items' ? 429 : (this.itemStatus?.(doc) ?? 201);
      const result: Record<string, unknown> = {
        _index: `.ds-${stream}-000001`,
        _id: meta._id ?? null,
        status,
      };
      if (status === 201 && op === 'create' && meta._id && docs.some((d) => d._id === meta._id)) {
        result.status = 409;
        result.error = {
          type: 'version_conflict_engine_exception',
          reason: 'document already exists',
        };
      } else if (status === 201) {
        result.result = 'created';
        docs.push({ ...doc, ...(meta._id ? { _id: meta._id } : {}) });
        this.streams.set(stream, docs);
      } else {
        result.error = {
          type: status === 429 ? 'es_rejected_execution_exception' : 'document_parsing_exception',
          reason: status === 429 ? 'rejected execution: queue full' : 'failed to parse',
        };
      }
      items.push({ [op]: result });
    }
    return {
      errors: items.some((item) => (Object.values(item)[0] as { status: number }).status >= 300),
      took: 1,
      items,
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(ElasticsearchStandIn.productHeader ? { 'x-elastic-product': 'Elasticsearch' } : {}),
  });
  res.end(text);
}
