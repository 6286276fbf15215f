import { TransportError, type TransportErrorKind as BodyErrorKind } from '../../ports/backend-transport.js';
import type { TransportErrorKind } from '../resilience/failure-classifier.js';

/** The abort reason of an attempt that reached its total deadline. */
export const TOTAL_TIMEOUT = new TransportError('total-timeout', 'the attempt reached its total deadline');
/** The abort reason of an attempt whose backend sent nothing before the first-byte deadline. */
export const FIRST_BYTE_TIMEOUT = new TransportError(
  'ttfb-timeout',
  'the backend sent nothing before the first-byte deadline',
);

/** One attempt's abort signal and deadline timers. */
export interface AttemptControl {
  /** Aborted by the caller's abort, the total deadline, the first-byte deadline or {@link abort}. */
  readonly signal: AbortSignal;
  /** Clears the first-byte timer: the headers came, or (for a stream) its first event. */
  readonly firstByteSeen: () => void;
  /** Clears every timer and the caller-abort listener: call once the attempt is over, however it ended. */
  readonly release: () => void;
  /** Aborts the attempt (the request, or the body being read). */
  readonly abort: (reason?: unknown) => void;
}

/**
 * Arms one attempt: an abort controller that follows the caller's signal, a total-deadline timer and a
 * first-byte timer (our own: undici's timers are coarse, about half a second, and a short deadline must
 * hold). A timer aborts with {@link TOTAL_TIMEOUT} or {@link FIRST_BYTE_TIMEOUT}, which
 * {@link attemptErrorKind} reads back.
 *
 * @example
 * const control = armAttempt(input.signal, { totalMs: 600_000, firstByteMs: 60_000 });
 * try { await transport.send({ ...request, signal: control.signal }); } finally { control.firstByteSeen(); }
 */
export function armAttempt(
  callerSignal: AbortSignal,
  timeouts: { readonly totalMs: number; readonly firstByteMs: number },
): AttemptControl {
  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort(callerSignal.reason);
  callerSignal.addEventListener('abort', onCallerAbort, { once: true });
  const totalTimer = setTimeout(() => controller.abort(TOTAL_TIMEOUT), timeouts.totalMs);
  let firstByteTimer: ReturnType<typeof setTimeout> | undefined = setTimeout(
    () => controller.abort(FIRST_BYTE_TIMEOUT),
    timeouts.firstByteMs,
  );
  const firstByteSeen = (): void => {
    if (firstByteTimer !== undefined) clearTimeout(firstByteTimer);
    firstByteTimer = undefined;
  };
  const release = (): void => {
    clearTimeout(totalTimer);
    firstByteSeen();
    callerSignal.removeEventListener('abort', onCallerAbort);
  };
  return { signal: controller.signal, firstByteSeen, release, abort: (reason) => controller.abort(reason) };
}

/**
 * Why an attempt failed, in the classifier's words: the caller's abort first, then our own deadlines, then
 * what the transport (or, after the headers, the body) reported; an abort nobody explains is `other`.
 *
 * @example
 * attemptErrorKind(error, input.signal, control.signal) // 'ttfb-timeout' after the first-byte timer fired
 */
export function attemptErrorKind(
  error: unknown,
  callerSignal: AbortSignal,
  attemptSignal: AbortSignal,
  bodyKind?: BodyErrorKind,
): TransportErrorKind {
  if (callerSignal.aborted) return 'caller-aborted';
  if (attemptSignal.aborted && attemptSignal.reason === TOTAL_TIMEOUT) return 'total-timeout';
  if (attemptSignal.aborted && attemptSignal.reason === FIRST_BYTE_TIMEOUT) return 'ttfb-timeout';
  if (bodyKind !== undefined) return bodyKind === 'aborted' ? 'other' : bodyKind;
  if (error instanceof TransportError) return error.kind === 'aborted' ? 'other' : error.kind;
  return 'other';
}
