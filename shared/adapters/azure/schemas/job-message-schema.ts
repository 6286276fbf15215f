import { z } from 'zod';
import type { JobMessage } from '../../../ports/job-queue.js';

/**
 * A job queue message body, format version 1 (docs/storage.md, "Job queue message"). Fields the adapters add
 * beside it (`gwPriorDeliveries`, `gwDeadLetter` on a Storage queue copy) are dropped from the result.
 */
export const jobMessageSchema = z.object({
  v: z.literal(1),
  jobId: z.string().min(1).max(128),
  // A request id that is not a string is dropped, not fatal: it is only for correlation.
  requestId: z.string().optional().catch(undefined),
  enqueuedAtMs: z.number(),
});

/**
 * Reads a queue message body — parsed JSON, a JSON string, or JSON bytes — as a {@link JobMessage};
 * `undefined` for anything else (the adapters dead-letter such a message instead of delivering it).
 */
export function readJobMessage(body: unknown): JobMessage | undefined {
  const parsed = jobMessageSchema.safeParse(jsonOf(body));
  if (!parsed.success) return undefined;
  const { requestId, ...message } = parsed.data;
  return requestId === undefined ? message : { ...message, requestId };
}

function jsonOf(body: unknown): unknown {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return body;
  try {
    return JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body)) as unknown;
  } catch {
    return undefined;
  }
}
