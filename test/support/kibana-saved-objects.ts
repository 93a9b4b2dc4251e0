import { readFileSync } from 'node:fs';

/** One line of a Kibana saved objects NDJSON export, as far as the tests read it. */
export interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: { type: string; id: string; name: string }[];
}

/** A Lens formBased column, as far as the tests read it. */
export interface LensColumn {
  operationType: string;
  sourceField?: string;
  filter?: { query: string; language: string };
  params?: {
    secondaryFields?: string[];
    sortField?: string;
    formula?: string;
    filters?: { label: string; input: { query: string; language: string } }[];
  };
}

export interface LensState {
  query: { query: string; language: string };
  filters: unknown[];
  datasourceStates: {
    formBased: { layers: Record<string, { columns: Record<string, LensColumn> }> };
  };
}

/** Where a saved object uses an event field, and how: aggregated by an operation, or in a query. */
export interface FieldUse {
  field: string;
  /** The Lens operation (`terms`, `sum`, ...), `time` for the data view's time field, `kql`, or `format`. */
  use: string;
  /** `<type>:<id>` of the saved object. */
  where: string;
}

/** Parses an NDJSON file: one object a line, blank lines refused. */
export function readSavedObjects(path: string): SavedObject[] {
  const lines = readFileSync(path, 'utf8').replace(/\n$/, '').split('\n');
  return lines.map((line, index) => {
    try {
      return JSON.parse(line) as SavedObject;
    } catch {
      throw new Error(`line ${index + 1} of ${path} is not one JSON object`);
    }
  });
}

export const lensStateOf = (object: SavedObject) => object.attributes.state as LensState;

export const lensColumnsOf = (object: SavedObject): LensColumn[] =>
  Object.values(lensStateOf(object).datasourceStates.formBased.layers).flatMap((layer) =>
    Object.values(layer.columns),
  );

const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const FIELD = String.raw`([A-Za-z_@][\w.@]*)`;

/** The field names a KQL query filters on (`a.b : "x" and c > 0` gives `a.b`, `c`). */
export function kqlFields(query: string): string[] {
  const unquoted = query.replace(QUOTED, '""');
  return [...unquoted.matchAll(new RegExp(`${FIELD}\\s*(?:<=|>=|<|>|:)`, 'g'))].map((m) => m[1]!);
}

/** The `[field, value]` pairs of a KQL query's `field : value` and `field : (a or b)` clauses. */
export function kqlValues(query: string): [string, string][] {
  const clause = new RegExp(
    `${FIELD}\\s*:\\s*(\\((?:[^()"]|"(?:[^"\\\\]|\\\\.)*")*\\)|"(?:[^"\\\\]|\\\\.)*"|[^\\s()]+)`,
    'g',
  );
  return [...query.matchAll(clause)].flatMap(([, field, value]) => {
    const quoted = [...value!.matchAll(QUOTED)].map((m) => m[0].slice(1, -1));
    const values = quoted.length > 0 || value!.startsWith('(') ? quoted : [value!];
    return values.filter((v) => v !== '*').map((v): [string, string] => [field!, v]);
  });
}

/** Every KQL query of a saved object: panel query, column filters, filter buckets, formulas. */
export function kqlQueries(object: SavedObject): string[] {
  if (object.type === 'dashboard') {
    const meta = object.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string };
    const source = JSON.parse(meta.searchSourceJSON) as { query?: { query: string } };
    return source.query?.query ? [source.query.query] : [];
  }
  if (object.type !== 'lens') return [];
  return [
    lensStateOf(object).query.query,
    ...lensColumnsOf(object).flatMap((column) => [
      ...(column.filter ? [column.filter.query] : []),
      ...(column.params?.filters ?? []).map((bucket) => bucket.input.query),
      ...[...(column.params?.formula ?? '').matchAll(/kql='([^']*)'/g)].map((m) => m[1]!),
    ]),
  ].filter((query) => query.trim() !== '');
}

/** Every use of an event field by the saved objects. */
export function fieldUses(objects: SavedObject[]): FieldUse[] {
  return objects.flatMap((object) => {
    const where = `${object.type}:${object.id}`;
    const uses: FieldUse[] = kqlQueries(object).flatMap((query) =>
      kqlFields(query).map((field) => ({ field, use: 'kql', where })),
    );
    if (object.type === 'index-pattern') {
      const attributes = object.attributes as Record<string, string | undefined>;
      const { timeFieldName, fieldFormatMap, fieldAttrs, fields } = attributes;
      if (timeFieldName) uses.push({ field: timeFieldName, use: 'time', where });
      for (const { name } of JSON.parse(fields ?? '[]') as { name: string }[]) {
        uses.push({ field: name, use: 'format', where });
      }
      for (const map of [fieldFormatMap, fieldAttrs]) {
        for (const field of Object.keys(JSON.parse(map ?? '{}') as object)) {
          uses.push({ field, use: 'format', where });
        }
      }
    }
    if (object.type === 'lens') {
      for (const column of lensColumnsOf(object)) {
        const op = column.operationType;
        if (column.sourceField && column.sourceField !== '___records___') {
          uses.push({ field: column.sourceField, use: op, where });
        }
        for (const field of column.params?.secondaryFields ?? [])
          uses.push({ field, use: op, where });
        if (column.params?.sortField)
          uses.push({ field: column.params.sortField, use: 'sort', where });
      }
    }
    return uses;
  });
}
