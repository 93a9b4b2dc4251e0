import { isRecord } from './sim-input.validation';

/** Nesting followed at most when building an example; deeper objects are `{}`, arrays `[]`. */
const MAX_DEPTH = 8;
/** Required properties of one object filled in, at most. */
const MAX_PROPERTIES = 16;
/** Items put in an array that sets `minItems`, at most. */
const MAX_ITEMS = 4;

/**
 * A value that a JSON Schema accepts, as a model's structured output or function arguments would
 * be: each required property (all of them, in OpenAI's strict mode) gets an example of its type
 * (`"example"`, `1` or the minimum, `true`, `null`, the first `enum` or `const` value, the first
 * branch of `anyOf` / `oneOf`, `$ref` to `#/$defs/...` or `#/definitions/...`). Bounded: at most
 * 8 levels, 16 properties per object and 4 items per array, so any schema a caller sends costs
 * little.
 *
 * @example
 * exampleOf({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
 * // { city: 'example' }
 */
export function exampleOf(schema: unknown): unknown {
  return example(schema, isRecord(schema) ? schema : {}, 0);
}

function example(schema: unknown, root: Record<string, unknown>, depth: number): unknown {
  if (!isRecord(schema)) return 'example';
  if (depth > MAX_DEPTH) return schema.type === 'array' ? [] : {};
  if (typeof schema.$ref === 'string') return example(resolve(schema.$ref, root), root, depth + 1);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as unknown;
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches) && branches.length > 0) {
    return example(branches[0], root, depth + 1);
  }
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => t !== 'null') ?? types[0];
  switch (type) {
    case 'object':
      return objectExample(schema, root, depth);
    case 'array': {
      const min = typeof schema.minItems === 'number' ? Math.min(schema.minItems, MAX_ITEMS) : 0;
      return Array.from({ length: Math.max(0, min) }, () => example(schema.items, root, depth + 1));
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' && schema.minimum > 1 ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string':
      return 'example';
    default:
      return isRecord(schema.properties) ? objectExample(schema, root, depth) : 'example';
  }
}

function objectExample(
  schema: Record<string, unknown>,
  root: Record<string, unknown>,
  depth: number,
): Record<string, unknown> {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required: unknown[] = Array.isArray(schema.required) ? schema.required : [];
  // No prototype: a property named `__proto__` is one more key, as in the JSON it came from.
  const value = Object.create(null) as Record<string, unknown>;
  for (const key of required.slice(0, MAX_PROPERTIES)) {
    if (typeof key !== 'string' || key.length > 64) continue;
    const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
    value[key] = example(property, root, depth + 1);
  }
  return value;
}

/** The schema a local `$ref` points at (`#/$defs/Name`, `#/definitions/Name`), else none. */
function resolve(ref: string, root: Record<string, unknown>): unknown {
  const match = /^#\/(\$defs|definitions)\/([^/]{1,128})$/.exec(ref);
  if (!match) return undefined;
  const defs = root[match[1]!];
  return isRecord(defs) && Object.hasOwn(defs, match[2]!) ? defs[match[2]!] : undefined;
}
