import { bulkhead, type BulkheadPolicy } from 'cockatiel';
import { type LlmBulkheadOptions } from '../llm-module.options';

/**
 * Caps the calls in flight to one upstream and the queue behind them. A full bulkhead rejects at
 * once: in the seed's outage, threads piled up behind a slow API and took the database pool down.
 */
export function createBulkheadPolicy(options: LlmBulkheadOptions): BulkheadPolicy {
  return bulkhead(options.maxConcurrent, options.maxQueue);
}
