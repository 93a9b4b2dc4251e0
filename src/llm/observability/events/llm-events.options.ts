/** `events.elasticsearch`: ship one document per call (and per request that made calls). */
export interface LlmElasticsearchEventsOptions {
  /**
   * Cluster URL, e.g. `http://localhost:9200`. Left undefined (an unset variable), events do not
   * go to Elasticsearch. Never logged (it may embed credentials). @default no cluster
   */
  node?: string;
  /** `apiKey`, or `username` + `password`. Never logged. @default no authentication */
  auth?: { apiKey?: string; username?: string; password?: string };
  /** Data stream `logs-<dataset>-<namespace>`. @default 'llm.calls' */
  dataset?: string;
  /** The data stream's namespace. @default 'default' */
  namespace?: string;
  /** Days the data stream keeps documents (data stream lifecycle). @default 30 */
  retentionDays?: number;
  /** Most events held in memory while Elasticsearch is slow or down. @default 10000 */
  maxBufferedEvents?: number;
  /** Most bytes of events held in memory. @default 10485760 (10 MiB) */
  maxBufferedBytes?: number;
  /** Events per bulk request. @default 500 */
  maxBulkEvents?: number;
  /** How often the buffer is flushed. @default 1000 */
  flushIntervalMs?: number;
  /** How long shutdown waits for the last flush. @default 5000 */
  shutdownTimeoutMs?: number;
}

/** Where business events go: Elasticsearch, structured log lines, or both off. */
export interface LlmEventsOptions {
  /** Ship one document per call (and per request that made calls) to Elasticsearch. @default off */
  elasticsearch?: LlmElasticsearchEventsOptions;
  /** Write each event as one JSON line on stdout (the gateway does when no cluster is set). @default false */
  log?: boolean;
}

/** The numbers of `events.elasticsearch`, each with a default. */
type Tunable = Exclude<keyof LlmElasticsearchEventsOptions, 'node' | 'auth'>;

/** `events.elasticsearch` with every default filled in and validated. */
export interface ResolvedElasticsearchEvents extends Required<
  Pick<LlmElasticsearchEventsOptions, Tunable>
> {
  node: string;
  auth?: { apiKey: string } | { username: string; password: string };
  /** `logs-<dataset>-<namespace>`: where documents are written. */
  dataStream: string;
}

/** The events section after validation. */
export interface ResolvedEventsOptions {
  /** Undefined: no cluster. */
  elasticsearch?: ResolvedElasticsearchEvents;
  log: boolean;
}
