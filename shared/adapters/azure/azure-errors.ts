/**
 * The HTTP status of an Azure SDK error (`RestError.statusCode`), or undefined for anything else.
 *
 * @example
 * if (statusOf(error) === 412) continue; // lost an ETag race
 */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The value of a read, or undefined when the service answered 404 (no such entity or blob): the one way every
 * Table and Blob adapter tells "absent" from a failure. Any other error is thrown as it is.
 *
 * @example
 * const entity = await absentOn404(client.getEntity<JobEntity>(partitionKey, rowKey));
 */
export async function absentOn404<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** True for the statuses a conditional write answers when another writer won: 412 (ETag), 409 (exists). */
export function isLostRace(error: unknown): boolean {
  const status = statusOf(error);
  return status === 412 || status === 409;
}

/**
 * A short, jittered pause between attempts of a contended optimistic write (full jitter, capped), so
 * that writers that lost a race do not retry in lockstep. Not a synchronisation device: correctness
 * comes from the ETag condition; this only spreads the retries.
 */
export function contentionBackoff(attempt: number, capMs = 25, random: () => number = Math.random): Promise<void> {
  const ms = Math.floor(random() * Math.min(capMs, 2 ** Math.min(attempt, 5)));
  if (ms <= 0) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, ms));
}
