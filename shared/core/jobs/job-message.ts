import type { JobMessage } from '../../ports/job-queue.js';

/**
 * Validates a queue message body (a Service Bus trigger hands over parsed JSON, or a string).
 * `undefined` when it is not a v1 job message: such a message is dead-lettered, never retried.
 *
 * @example
 * const message = parseJobMessage(serviceBusMessage); // { v: 1, jobId, … } | undefined
 */
export function parseJobMessage(body: unknown): JobMessage | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const candidate = value as Record<string, unknown>;
  if (
    candidate['v'] !== 1 ||
    typeof candidate['jobId'] !== 'string' ||
    candidate['jobId'].length === 0 ||
    candidate['jobId'].length > 128
  )
    return undefined;
  if (typeof candidate['enqueuedAtMs'] !== 'number') return undefined;
  const requestId = candidate['requestId'];
  return {
    v: 1,
    jobId: candidate['jobId'],
    enqueuedAtMs: candidate['enqueuedAtMs'],
    ...(typeof requestId === 'string' ? { requestId } : {}),
  };
}
