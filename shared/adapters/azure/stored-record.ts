import type { z } from 'zod';
import { StoredRecordError, type StoredRecordWhere } from '../../ports/stored-record-error.js';

/**
 * Checks a value read back from storage against its schema: the parsed value, or a
 * {@link StoredRecordError} naming the store, table or container and key (never the stored values).
 *
 * @example
 * const where = { store: 'backend-health', location: client.tableName, key };
 * const health = readStored(backendHealthSchema, JSON.parse(entity.health), where);
 */
export function readStored<T>(schema: z.ZodType<T>, value: unknown, where: StoredRecordWhere): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new StoredRecordError({ ...where, problem: describeIssues(parsed.error) });
}

/** {@link readStored} of a JSON text (a Table string column, URI-decoded Blob metadata). */
export function readStoredJson<T>(schema: z.ZodType<T>, text: unknown, where: StoredRecordWhere): T {
  if (typeof text !== 'string') throw new StoredRecordError({ ...where, problem: 'the JSON column is missing' });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StoredRecordError({ ...where, problem: `not JSON (${text.length} characters)` });
  }
  return readStored(schema, value, where);
}

/** `PK=… RK=…` of a Table entity, the key part of a {@link StoredRecordError}. */
export function tableKeyOf(partitionKey: string, rowKey: string): string {
  return `PartitionKey=${partitionKey} RowKey=${rowKey}`;
}

/** The first issues of a failed parse as `path: message`, without the values that failed. */
function describeIssues(error: z.ZodError): string {
  const issues = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`);
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return `${issues.join('; ')}${more}`;
}
