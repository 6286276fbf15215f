import { isStorageUnreachable, type StorageEndpoint } from '../adapters/azure/storage-reachability.js';
import { GatewayError } from '../core/errors/gateway-error.js';

/**
 * Wraps a storage adapter so that a storage outage reaches the engine as 503 `GW_ERR_STORAGE_UNAVAILABLE`
 * (retryable, naming the account and endpoint) instead of an unknown error the engine would answer as 500.
 * Every method that returns a promise or an async iterable is guarded; answers about the request (404,
 * 409, 412…) pass through untouched for the adapter's callers to handle.
 *
 * @example
 * const quotaStore = guardStorage(createTableQuotaStore({ client }), endpoint);
 */
export function guardStorage<T extends object>(store: T, endpoint: StorageEndpoint): T {
  const translate = (error: unknown): unknown =>
    isStorageUnreachable(error)
      ? new GatewayError('GW_ERR_STORAGE_UNAVAILABLE', {
          message: `The gateway storage (account ${endpoint.account} at ${endpoint.endpoint}) cannot be reached.`,
          cause: error,
        })
      : error;
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(translate(error)));
        if (isAsyncIterable(result)) return guardIterable(result, translate);
        return result;
      };
    },
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

async function* guardIterable<T>(source: AsyncIterable<T>, translate: (error: unknown) => unknown): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (error) {
    throw translate(error);
  }
}
