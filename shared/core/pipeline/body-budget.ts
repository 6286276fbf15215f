import { GatewayError } from '../errors/gateway-error.js';

/** Bytes one call holds in the {@link BodyBudget}; give them back once, when the call has ended. */
export interface BodyLease {
  /** Adds `bytes` to the lease; throws 503 `GW_ERR_SERVICE_OVERLOADED` when the budget has no room. */
  grow(bytes: number): void;
  /** Gives every byte of the lease back. Idempotent. */
  release(): void;
}

/** How long a caller refused by a full budget is told to wait: bodies leave as their calls end. */
const RETRY_AFTER_MS = 1_000;

/**
 * The total of request bodies buffered across the calls in flight (`limits.maxBufferedBodyBytes`).
 * A body is buffered because a failover resends it, so it is held until its call ends; without a
 * bound, many large bodies at once (base64 images) would grow the process past its memory. Past the
 * bound a call is refused with a retryable 503 before more of its body is read. The limit is read per
 * call, so a reload applies to the next one.
 *
 * @example
 * const budget = new BodyBudget(() => config().limits.maxBufferedBodyBytes);
 * const lease = budget.lease();
 * lease.grow(chunk.byteLength); // throws 503 when full
 * // … when the call ends:
 * lease.release();
 */
export class BodyBudget {
  private held = 0;

  constructor(private readonly limitBytes: () => number) {}

  /** Bytes held by the calls in flight. */
  get heldBytes(): number {
    return this.held;
  }

  /** A new, empty lease for one call's body. */
  lease(): BodyLease {
    let bytes = 0;
    let released = false;
    return {
      grow: (more) => {
        if (released || more <= 0) return;
        const limit = this.limitBytes();
        if (this.held + more > limit) throw overloaded(limit);
        this.held += more;
        bytes += more;
      },
      release: () => {
        if (released) return;
        released = true;
        this.held -= bytes;
        bytes = 0;
      },
    };
  }
}

function overloaded(limitBytes: number): GatewayError {
  return new GatewayError('GW_ERR_SERVICE_OVERLOADED', {
    message:
      `The gateway holds its limit of ${limitBytes} bytes of request bodies in flight ` +
      '(limits.maxBufferedBodyBytes, GATEWAY_LIMITS__MAX_BUFFERED_BODY_BYTES); retry shortly.',
    retryAfterMs: RETRY_AFTER_MS,
  });
}
