import { z } from 'zod';
import { didYouMean, nameList } from './did-you-mean.js';

/**
 * Messages for unknown configuration keys that say what was probably meant: the keys the schema accepts
 * at that path, found by walking the schema along the path (and the raw document, to pick the member of
 * a union such as `backends[].auth` by its `type`).
 */

/** Strips the wrappers that do not change an object's keys. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodCatch
    )
      current = current.def.innerType as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.def.in as z.ZodType;
    else return current;
  }
}

/** True when every literal field of an object schema (a union's discriminator) equals the raw value's. */
function literalsMatch(schema: z.ZodType, raw: unknown): boolean {
  if (!(schema instanceof z.ZodObject) || typeof raw !== 'object' || raw === null) return false;
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const inner = unwrap(field);
    if (inner instanceof z.ZodLiteral && !inner.def.values.includes((raw as Record<string, unknown>)[key] as never))
      return false;
  }
  return true;
}

/** The object schemas that may be at a node: one for an object, the matching members of a union. */
function objectsAt(schema: z.ZodType, raw: unknown): z.ZodObject[] {
  const node = unwrap(schema);
  if (node instanceof z.ZodObject) return [node];
  if (node instanceof z.ZodUnion) {
    const options = (node.options as readonly z.ZodType[]).flatMap((o) => objectsAt(o, raw));
    const matching = options.filter((o) => literalsMatch(o, raw));
    return matching.length > 0 ? matching : options;
  }
  return [];
}

/** The schemas (and raw values) one path step below a node. */
function childrenAt(schema: z.ZodType, raw: unknown, key: PropertyKey): { schema: z.ZodType; raw: unknown }[] {
  const node = unwrap(schema);
  const rawChild = typeof raw === 'object' && raw !== null ? (raw as Record<PropertyKey, unknown>)[key] : undefined;
  if (node instanceof z.ZodArray) return [{ schema: node.element as z.ZodType, raw: rawChild }];
  if (node instanceof z.ZodRecord) return [{ schema: node.def.valueType as z.ZodType, raw: rawChild }];
  return objectsAt(node, raw).flatMap((o) => {
    const field = (o.shape as Record<string, z.ZodType>)[String(key)];
    return field === undefined ? [] : [{ schema: field, raw: rawChild }];
  });
}

/**
 * The keys `schema` accepts at `path` of the raw document `raw` (empty when the path leads nowhere).
 *
 * @example
 * knownKeysAt(gatewaySchema, raw, ['server']) // → ['host', 'port', 'mode']
 */
export function knownKeysAt(schema: z.ZodType, raw: unknown, path: readonly PropertyKey[]): string[] {
  let nodes = [{ schema, raw }];
  for (const key of path) nodes = nodes.flatMap((n) => childrenAt(n.schema, n.raw, key));
  const keys = new Set<string>();
  for (const n of nodes) for (const o of objectsAt(n.schema, n.raw)) for (const k of Object.keys(o.shape)) keys.add(k);
  return [...keys];
}

/**
 * The message for one unknown key: a close known key as "did you mean", else the keys accepted there.
 *
 * @example
 * unknownKeyMessage('prot', ['host', 'port', 'mode']) // → 'unknown key "prot" (did you mean "port"?)'
 */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const hint = didYouMean(key, known);
  if (hint !== '') return `unknown key "${key}"${hint}`;
  return known.length === 0 ? `unknown key "${key}"` : `unknown key "${key}" (keys here: ${nameList(known, 12)})`;
}
