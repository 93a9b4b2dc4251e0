import type { Client } from '@elastic/elasticsearch';
import { Logger } from '@nestjs/common';
import { describeRequestError, isRetryableRequestError } from './bulk-response.reader';
import {
  elasticsearch,
  printableNode,
  SHIPPER_REQUEST_OPTIONS,
  withoutTracing,
} from './elasticsearch.client';
import { buildComponentTemplate, buildIndexTemplate } from './elasticsearch-index.templates';
import { type ResolvedElasticsearchEvents } from './llm-events.options';

/** The longest wait between two installation attempts while the cluster is unreachable. */
export const MAX_INSTALL_RETRY_DELAY_MS = 30_000;

/**
 * Installs the component and index templates in the background, never failing or delaying the
 * boot. While the cluster is unreachable it retries with a doubling delay (from the flush
 * interval up to 30 s) and says so once; it says once when installed. PUT is idempotent, so
 * every replica may install at every start.
 *
 * The shipper waits for {@link settled} before its first bulk request, so the data stream is
 * created by our template and not by Elastic's generic `logs-*-*` one. If the cluster refuses
 * the templates (e.g. 403: the API key may write documents but not manage templates), the
 * installer gives up with one warning and events still ship, mapped by whatever template applies.
 */
export class ElasticsearchTemplateInstaller {
  private state: 'pending' | 'installed' | 'refused' = 'pending';
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private saidRetrying = false;
  /** Aborts the requests of attempts in progress at shutdown, so closing the client is quick. */
  private readonly aborter = new AbortController();

  constructor(
    private readonly client: Client,
    private readonly options: ResolvedElasticsearchEvents,
    private readonly logger: Pick<Logger, 'log' | 'warn'> = new Logger('LlmEvents'),
  ) {}

  /** True once installed, or once the cluster refused for good: shipping may start. */
  get settled(): boolean {
    return this.state !== 'pending';
  }

  get installed(): boolean {
    return this.state === 'installed';
  }

  /** Starts installing in the background; returns at once. */
  start(): void {
    this.schedule(0, this.options.flushIntervalMs);
  }

  /** Stops retrying (shutdown). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.aborter.abort();
  }

  /**
   * One attempt now; with a `deadline` (epoch ms) its requests end by then (used at shutdown, so
   * the last events still land in a data stream with our mappings). True when the templates are
   * in place or will not be.
   */
  async attempt(deadline?: number): Promise<boolean> {
    if (this.settled) return true;
    const options = () => ({
      ...SHIPPER_REQUEST_OPTIONS,
      // At shutdown (stopped) the attempt runs on its own; before, stop() may abort it.
      ...(this.stopped ? {} : { signal: this.aborter.signal }),
      ...(deadline === undefined ? {} : { requestTimeout: Math.max(1, deadline - Date.now()) }),
    });
    try {
      await withoutTracing(async () => {
        // The component first: the index template refers to it.
        await this.client.cluster.putComponentTemplate(
          buildComponentTemplate(this.options),
          options(),
        );
        await this.client.indices.putIndexTemplate(buildIndexTemplate(this.options), options());
      });
      this.state = 'installed';
      this.logger.log(
        `Index template '${buildIndexTemplate(this.options).name}' installed on ` +
          `${printableNode(this.options.node)}; events go to data stream '${this.options.dataStream}'.`,
      );
      return true;
    } catch (error) {
      if (isRetryableRequestError(error)) {
        // Aborted by stop(), or unreachable: either way, not settled.
        if (!this.stopped) this.sayRetrying(error);
        return false;
      }
      this.state = 'refused';
      this.logger.warn(this.refusal(error));
      return true;
    }
  }

  /** What a refused template means for the events, for the one warning. */
  private refusal(error: unknown): string {
    const { errors } = elasticsearch();
    const node = printableNode(this.options.node);
    const dropped =
      'every bulk of events will be refused too: the events are dropped, counted in ' +
      '`llm.events.dropped{llm.drop.reason="rejected"}` (alert LlmBusinessEventsDropped)';
    if (error instanceof errors.ProductNotSupportedError) {
      return (
        `The server at ${node} did not answer as Elasticsearch (no 'x-elastic-product: ` +
        `Elasticsearch' header: another product such as OpenSearch, or a proxy that removes the ` +
        `header), and the Elasticsearch client refuses such answers: ${dropped}, whatever the ` +
        `server did with them. Point events.elasticsearch.node at Elasticsearch itself.`
      );
    }
    if (error instanceof errors.ResponseError && error.statusCode === 401) {
      return (
        `Elasticsearch at ${node} refused the credentials (HTTP 401); ${dropped}. ` +
        'Check events.elasticsearch.auth (ELASTICSEARCH_API_KEY for the gateway).'
      );
    }
    return (
      `Elasticsearch refused the index template for '${this.options.dataStream}' ` +
      `(${describeRequestError(error)}). Events are still shipped, mapped by the cluster's ` +
      `default templates; grant the manage_index_templates privilege or install it by hand.`
    );
  }

  private schedule(delayMs: number, nextDelayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.attempt().then((done) => {
        if (!done) {
          this.schedule(nextDelayMs, Math.min(nextDelayMs * 2, MAX_INSTALL_RETRY_DELAY_MS));
        }
      });
    }, delayMs);
    // Background work must never keep the process alive.
    this.timer.unref();
  }

  private sayRetrying(error: unknown): void {
    if (this.saidRetrying) return;
    this.saidRetrying = true;
    this.logger.warn(
      `Elasticsearch at ${printableNode(this.options.node)} is not reachable ` +
        `(${describeRequestError(error)}); installing the index template in the background, ` +
        `retrying until it answers. Events are buffered meanwhile; LLM calls are unaffected.`,
    );
  }
}
