/**
 * Runs `create` (a table's or a container's "create if missing") at most once while it succeeds: every
 * caller awaits the same promise, and a failure is forgotten so the next call tries again. With
 * `enabled: false` (the infrastructure creates the resource) it does nothing.
 *
 * @example
 * const ensureTable = createOnce(() => client.createTable(), options.createTable !== false);
 * await ensureTable();
 */
export function createOnce(create: () => Promise<unknown>, enabled = true): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    if (!enabled) return Promise.resolve();
    ready ??= create().then(
      () => undefined,
      (error: unknown) => {
        ready = undefined;
        throw error;
      },
    );
    return ready;
  };
}
