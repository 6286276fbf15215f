import type { TableClient } from '@azure/data-tables';
import { statusOf } from './azure-errors.js';

/** The storage account the adapters use, for start-up lines, readiness and error messages (no secret). */
export interface StorageEndpoint {
  /** The account name (`devstoreaccount1` on Azurite). */
  readonly account: string;
  /** The Table service endpoint, e.g. `http://127.0.0.1:10002/devstoreaccount1`. */
  readonly endpoint: string;
}

/**
 * The account and Table endpoint a client talks to: the first label of `{account}.table.core.windows.net`,
 * else the first path segment (Azurite and other path-style endpoints).
 *
 * @example
 * storageEndpointOf(clients.tableClient('GatewayBackendHealth'));
 * // → { account: 'devstoreaccount1', endpoint: 'http://127.0.0.1:10002/devstoreaccount1' }
 */
export function storageEndpointOf(client: Pick<TableClient, 'url'>): StorageEndpoint {
  const url = new URL(client.url);
  const endpoint = `${url.origin}${url.pathname.replace(/\/$/, '')}`;
  const pathAccount = url.pathname.split('/').find((part) => part !== '');
  const account = /\.table\./.test(url.hostname) ? url.hostname.split('.')[0]! : (pathAccount ?? url.hostname);
  return { account, endpoint };
}

/**
 * True for an error that means the storage account cannot be reached or cannot serve now — no connection,
 * a name that does not resolve, a timeout, a 5xx or throttling — as opposed to an answer about the request
 * (404, 409, 412, 403…), which the adapters handle or which is a bug to report as it is.
 */
export function isStorageUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const status = statusOf(error);
  if (status !== undefined) return status >= 500 || status === 429;
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (name === 'AbortError' || name === 'TimeoutError') return true;
  return name === 'RestError' || (typeof code === 'string' && UNREACHABLE_CODES.has(code));
}

const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Checks once that the storage account answers: creates the given table if it does not exist (what the
 * adapters do on first use; needs only the data role the gateway has anyway), within `timeoutMs` including
 * the SDK's own retries. Answers the reason in one line when it does not.
 *
 * @example
 * const probe = await probeStorage(clients.tableClient('GatewayBackendHealth'), 10_000);
 * if (!probe.ok) refuse(`storage unreachable: ${probe.reason}`);
 */
export async function probeStorage(
  client: Pick<TableClient, 'createTable'>,
  timeoutMs: number,
): Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }> {
  try {
    await client.createTable({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return { ok: true };
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    if (name === 'AbortError' || name === 'TimeoutError')
      return { ok: false, reason: `no answer within ${timeoutMs} ms` };
    const status = statusOf(error);
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return { ok: false, reason: status === undefined ? message : `HTTP ${status}: ${message}` };
  }
}
