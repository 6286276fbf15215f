/** A signal that follows two others, and how to let go of them. */
export interface JoinedSignal {
  /** Aborted as soon as either source is, with that source's reason (the first one's, when both already are). */
  readonly signal: AbortSignal;
  /** Removes the listeners from both sources (idempotent): call it when the joined signal is no longer needed. */
  readonly detach: () => void;
}

/**
 * `AbortSignal.any([a, b])` for two signals that live as long as one call (the caller's and the shutdown
 * drain's): the same abort, with the same reason, from two plain listeners. `AbortSignal.any` keeps weak
 * references and a finalization registration per source so that a long-lived source never holds the joined
 * signal; that bookkeeping cost ~16–20 µs of CPU per call, most of it in the garbage collector (measured with a
 * loop of 200,000 joins on Node 22: `any` 15.6–21.8 µs, this join 1.8–2.1 µs with its detach). The listeners
 * here are strong, so the call detaches them when it ends ({@link JoinedSignal.detach}).
 *
 * @example
 * const { signal, detach } = joinSignals(request.signal, drainEntry.signal);
 * // … the call runs under `signal`; when its answer has ended:
 * detach();
 */
export function joinSignals(a: AbortSignal, b: AbortSignal): JoinedSignal {
  const controller = new AbortController();
  if (a.aborted || b.aborted) {
    controller.abort(a.aborted ? a.reason : b.reason);
    return { signal: controller.signal, detach: () => undefined };
  }
  const detach = (): void => {
    a.removeEventListener('abort', onA);
    b.removeEventListener('abort', onB);
  };
  const onA = (): void => {
    detach();
    controller.abort(a.reason);
  };
  const onB = (): void => {
    detach();
    controller.abort(b.reason);
  };
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return { signal: controller.signal, detach };
}
