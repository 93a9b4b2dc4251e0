// Builders of Lens "formBased" datasource columns, in the shape Kibana 8.9+ saves them
// (datasourceStates.formBased.layers.<layer>.columns). Kept tiny and explicit so that a panel
// definition reads like the Lens editor: x axis, breakdown, metrics.

/** A KQL query as Lens stores it. */
export const kql = (query) => ({ query, language: 'kuery' });

/** `@timestamp` histogram with Kibana's automatic interval. */
export const dateHistogram = () => ({
  label: '@timestamp',
  dataType: 'date',
  operationType: 'date_histogram',
  sourceField: '@timestamp',
  isBucketed: true,
  scale: 'interval',
  params: { interval: 'auto', includeEmptyRows: true, dropPartials: false },
});

/**
 * Top values of a keyword field. `orderBy` is a metric column id, or omitted for alphabetical
 * order; `secondaryFields` makes it a multi-field split ("upstream › state").
 */
export const terms = (field, { label, size = 10, orderBy, secondaryFields } = {}) => ({
  label: label ?? `Top values of ${field}`,
  dataType: 'string',
  operationType: 'terms',
  scale: 'ordinal',
  sourceField: field,
  isBucketed: true,
  params: {
    size,
    orderBy: orderBy
      ? { type: 'column', columnId: orderBy }
      : { type: 'alphabetical', fallback: true },
    orderDirection: orderBy ? 'desc' : 'asc',
    otherBucket: true,
    missingBucket: false,
    parentFormat: { id: secondaryFields ? 'multi_terms' : 'terms' },
    ...(secondaryFields ? { secondaryFields } : {}),
    include: [],
    exclude: [],
    includeIsRegex: false,
    excludeIsRegex: false,
  },
  ...(label ? { customLabel: true } : {}),
});

/** One bucket per labelled KQL query (a "Filters" breakdown). */
export const filters = (label, buckets) => ({
  label,
  dataType: 'string',
  operationType: 'filters',
  scale: 'ordinal',
  isBucketed: true,
  params: {
    filters: buckets.map(([bucketLabel, query]) => ({ label: bucketLabel, input: kql(query) })),
  },
  customLabel: true,
});

/**
 * Count of documents, optionally only those matching a KQL filter. `emptyAsNull` shows an empty
 * bucket as a gap (charts) instead of 0 (headline numbers want 0).
 */
export const count = (label, filter, { emptyAsNull = true } = {}) => ({
  label,
  dataType: 'number',
  operationType: 'count',
  isBucketed: false,
  scale: 'ratio',
  sourceField: '___records___',
  ...(filter ? { filter: kql(filter) } : {}),
  params: { emptyAsNull },
  customLabel: true,
});

/** A metric on one field: `unique_count`, `sum`, `percentile` (with `params.percentile`). */
export const metric = (operationType, field, label, params = {}) => ({
  label,
  dataType: 'number',
  operationType,
  sourceField: field,
  isBucketed: false,
  scale: 'ratio',
  params: { ...(operationType === 'percentile' ? {} : { emptyAsNull: true }), ...params },
  customLabel: true,
});

/** The latest value of a keyword field, by `@timestamp`. */
export const lastValue = (field, label) => ({
  label,
  dataType: 'string',
  operationType: 'last_value',
  sourceField: field,
  isBucketed: false,
  scale: 'ordinal',
  params: { sortField: '@timestamp', showArrayValues: true },
  customLabel: true,
});

/**
 * The formula `count(kql='<matching>') / count()` shown as a percentage. Lens saves a formula
 * with the helper columns it compiled it into (X0, X1: the counts; X2: the division), so they are
 * written out here exactly as the editor would.
 */
export const ratioFormula = (id, label, matching) => {
  const formula = `count(kql='${matching}') / count()`;
  const part = { label: `Part of ${label}`, customLabel: true };
  const counter = (filter) => count(part.label, filter, { emptyAsNull: false });
  return {
    [id]: {
      label,
      dataType: 'number',
      operationType: 'formula',
      isBucketed: false,
      scale: 'ratio',
      params: {
        formula,
        isFormulaBroken: false,
        format: { id: 'percent', params: { decimals: 1 } },
      },
      references: [`${id}X2`],
      customLabel: true,
    },
    [`${id}X0`]: counter(matching),
    [`${id}X1`]: counter(undefined),
    [`${id}X2`]: {
      ...part,
      dataType: 'number',
      operationType: 'math',
      isBucketed: false,
      scale: 'ratio',
      params: {
        tinymathAst: {
          type: 'function',
          name: 'divide',
          args: [`${id}X0`, `${id}X1`],
          location: { min: 0, max: formula.length },
          text: formula,
        },
      },
      references: [`${id}X0`, `${id}X1`],
    },
  };
};
