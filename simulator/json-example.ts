/**
 * A deterministic example value for a JSON Schema: what the simulator puts in a tool call's `arguments`
 * and in a `json_schema` answer, so that a client can parse (and validate) what it gets back.
 */

type Schema = Record<string, unknown>;

const MAX_DEPTH = 8;
const STRING_FORMATS: Readonly<Record<string, string>> = {
  'date-time': '2026-01-01T00:00:00Z',
  date: '2026-01-01',
  time: '00:00:00',
  email: 'user@example.com',
  uri: 'https://example.com/',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
};

function asSchema(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : undefined;
}

/** Resolves a local `$ref` (`#/$defs/X`, `#/definitions/X`, any JSON pointer into the root). */
function resolveRef(ref: string, root: Schema): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    node = asSchema(node)?.[key];
  }
  return asSchema(node);
}

function exampleString(schema: Schema): string {
  const format = typeof schema.format === 'string' ? STRING_FORMATS[schema.format] : undefined;
  let text = format ?? 'example';
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  if (text.length < min) text = text.padEnd(min, 'x');
  return text.length > max ? text.slice(0, max) : text;
}

/** 1 when the bounds allow it, else the nearest bound (a step inside an exclusive one). */
function exampleNumber(schema: Schema, integer: boolean): number {
  const num = (key: string): number | undefined =>
    typeof schema[key] === 'number' ? (schema[key] as number) : undefined;
  const low = num('minimum') ?? (num('exclusiveMinimum') !== undefined ? num('exclusiveMinimum')! + 1 : -Infinity);
  const high = num('maximum') ?? (num('exclusiveMaximum') !== undefined ? num('exclusiveMaximum')! - 1 : Infinity);
  const value = Math.min(Math.max(1, low), high);
  return integer ? Math.ceil(value) : value;
}

function exampleObject(schema: Schema, root: Schema, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = asSchema(schema.properties) ?? {};
  for (const [name, property] of Object.entries(properties)) out[name] = exampleOf(property, root, depth + 1);
  return out;
}

function exampleArray(schema: Schema, root: Schema, depth: number): unknown[] {
  const count = typeof schema.minItems === 'number' ? Math.min(schema.minItems, 8) : 1;
  if (Array.isArray(schema.prefixItems)) return schema.prefixItems.map((item) => exampleOf(item, root, depth + 1));
  return Array.from({ length: count }, () => exampleOf(schema.items, root, depth + 1));
}

function exampleOf(value: unknown, root: Schema, depth: number): unknown {
  const schema = asSchema(value);
  if (schema === undefined || depth > MAX_DEPTH) return null;
  if (typeof schema.$ref === 'string') return exampleOf(resolveRef(schema.$ref, root), root, depth + 1);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const preferred = options.find((o) => asSchema(o)?.type !== 'null') ?? options[0];
      return exampleOf(preferred, root, depth + 1);
    }
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => t !== 'null') ?? types[0];
  switch (type) {
    case 'object':
      return exampleObject(schema, root, depth);
    case 'array':
      return exampleArray(schema, root, depth);
    case 'string':
      return exampleString(schema);
    case 'integer':
      return exampleNumber(schema, true);
    case 'number':
      return exampleNumber(schema, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return schema.properties !== undefined ? exampleObject(schema, root, depth) : null;
  }
}

/**
 * An example value for a JSON Schema: every property of an object, one item of an array (or
 * `minItems`), the first `enum` value or the `const`, the first non-null member of `anyOf` / `oneOf`,
 * `"example"` (or a sample of its `format`) for a string, 1 (or the nearest bound) for a number, `true`
 * for a boolean. Local `$ref`s are followed. A missing schema gives `{}`.
 *
 * @example
 * jsonExample({ type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } } })
 * // → { city: 'example', unit: 'c' }
 */
export function jsonExample(schema: unknown): unknown {
  const root = asSchema(schema);
  if (root === undefined) return {};
  return exampleOf(root, root, 0);
}
