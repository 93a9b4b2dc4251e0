import type { estypes } from '@elastic/elasticsearch';
import { LLM_EVENT_FIELD_ALIASES, LLM_EVENT_FIELDS } from './llm-event.fields';
import { type ResolvedElasticsearchEvents } from './llm-events.options';

/**
 * Above Elastic's built-in `logs-*-*` template (100) and the Fleet integration templates
 * (up to 200), so `logs-<dataset>-*` data streams get ours.
 */
export const LLM_INDEX_TEMPLATE_PRIORITY = 250;

/** Elastic's own building blocks of `logs-*-*`; absent on a bare cluster, hence optional. */
const ELASTIC_COMPONENTS = ['logs@mappings', 'logs@settings', 'ecs@mappings'];

/** Marks what this module installed, so people know where a template came from. */
const MANAGED_BY = { managed_by: 'nestjs-resilient-llm' };

type PutComponentTemplate = estypes.ClusterPutComponentTemplateRequest;
type PutIndexTemplate = estypes.IndicesPutIndexTemplateRequest;

/** Names of the templates for one dataset. */
export function templateNames(dataset: string): {
  component: string;
  index: string;
  custom: string;
} {
  return {
    component: `logs-${dataset}@mappings`,
    index: `logs-${dataset}`,
    // Elastic's convention for user additions; composed last, so people can override us there.
    custom: `logs-${dataset}@custom`,
  };
}

/**
 * The component template with an explicit mapping of every event field (keywords for
 * aggregation, `long` nanoseconds for `event.duration`, ...), built from
 * {@link LLM_EVENT_FIELDS}, the same list the event builders and the dashboards use.
 */
export function buildComponentTemplate(options: ResolvedElasticsearchEvents): PutComponentTemplate {
  return {
    name: templateNames(options.dataset).component,
    template: {
      settings: {
        // logs@settings attaches the ILM policy `logs@lifecycle`, which would win over our
        // retention; this lets the data stream lifecycle manage the backing indices instead.
        'index.lifecycle.prefer_ilm': false,
      },
      mappings: { properties: fieldMappings() },
    },
    _meta: { ...MANAGED_BY, description: 'Fields of LLM business events (calls and requests).' },
  };
}

/**
 * The index template of the data streams `logs-<dataset>-*`: Elastic's logs and ECS components
 * first, ours after them (later components win), the user's `@custom` hooks last, and the
 * retention as a data stream lifecycle.
 */
export function buildIndexTemplate(options: ResolvedElasticsearchEvents): PutIndexTemplate {
  const names = templateNames(options.dataset);
  const optional = [...ELASTIC_COMPONENTS, 'logs@custom', names.custom];
  return {
    name: names.index,
    index_patterns: [`logs-${options.dataset}-*`],
    data_stream: {},
    priority: LLM_INDEX_TEMPLATE_PRIORITY,
    composed_of: [...ELASTIC_COMPONENTS, names.component, 'logs@custom', names.custom],
    ignore_missing_component_templates: optional,
    template: { lifecycle: { data_retention: `${options.retentionDays}d` } },
    allow_auto_create: true,
    _meta: {
      ...MANAGED_BY,
      description: 'LLM business events: one document per call and request.',
    },
  };
}

/**
 * `{ event: { properties: { outcome: { type: 'keyword' } } } }` from `event.outcome: keyword`,
 * plus the old names as aliases of the new ones.
 */
function fieldMappings(): Record<string, estypes.MappingProperty> {
  const root: Record<string, estypes.MappingProperty> = {};
  for (const [path, type] of Object.entries(LLM_EVENT_FIELDS)) {
    set(root, path, type === 'keyword' ? { type, ignore_above: 1024 } : { type });
  }
  for (const [path, target] of Object.entries(LLM_EVENT_FIELD_ALIASES)) {
    set(root, path, { type: 'alias', path: target });
  }
  return root;
}

function set(
  root: Record<string, estypes.MappingProperty>,
  path: string,
  mapping: estypes.MappingProperty,
): void {
  const parts = path.split('.');
  const leaf = parts.pop()!;
  let level = root;
  for (const part of parts) {
    const node = (level[part] ??= {
      type: 'object',
      properties: {},
    }) as estypes.MappingObjectProperty;
    level = node.properties ??= {};
  }
  level[leaf] = mapping;
}
