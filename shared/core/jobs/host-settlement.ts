import type { JobSettlement } from './job-worker.js';

/**
 * How a host that cannot settle a message itself applies the worker's settlement. The Azure Functions
 * Service Bus trigger (without SDK-bound settlement) completes a message when the function returns and
 * abandons it when it throws; Service Bus then redelivers at once and dead-letters past the queue's
 * `MaxDeliveryCount`.
 * - `return`: complete.
 * - `throw`: abandon for immediate redelivery (`deliveryCount + 1`); a dead-letter verdict also throws, so
 *   the queue dead-letters the message itself once its deliveries reach `MaxDeliveryCount` (which infra
 *   sets equal to `async.maxDeliveries`).
 * - `reschedule`: send a scheduled copy (carrying the deliveries so far) at `deliverAtMs`, then complete —
 *   Service Bus cannot delay an abandoned message.
 *
 * @example
 * hostSettlementOf({ action: 'abandon', retryAfterMs: 8_000, reason: 'attempt failed' }, 1_000, now);
 * // → { kind: 'reschedule', deliverAtMs: now + 8_000 }
 */
export function hostSettlementOf(
  settlement: JobSettlement,
  immediateBelowMs: number,
  nowMs: number,
):
  | { readonly kind: 'return' }
  | { readonly kind: 'throw'; readonly message: string }
  | { readonly kind: 'reschedule'; readonly deliverAtMs: number } {
  switch (settlement.action) {
    case 'complete':
      return { kind: 'return' };
    case 'dead-letter':
      return { kind: 'throw', message: `dead-letter: ${settlement.reason}` };
    case 'abandon':
      // Only an immediate retry is left to the host's own redelivery; any wait — even a sub-second one,
      // such as a dead worker's lease about to run out — is rescheduled at least a second out, so a tight
      // redelivery loop cannot use up the delivery count and dead-letter the job's only message.
      return settlement.retryAfterMs <= 0
        ? { kind: 'throw', message: `abandon: ${settlement.reason}` }
        : { kind: 'reschedule', deliverAtMs: nowMs + Math.max(settlement.retryAfterMs, immediateBelowMs) };
  }
}

/**
 * The delivery count the worker should see: the host's count of this message plus the deliveries of the
 * earlier copies it replaces (`gwPriorDeliveries`, set when a delayed retry re-scheduled it).
 *
 * @example
 * effectiveDeliveryCount(1, { gwPriorDeliveries: 2 }); // 3
 */
export function effectiveDeliveryCount(hostDeliveryCount: unknown, applicationProperties: unknown): number {
  const own = typeof hostDeliveryCount === 'number' && hostDeliveryCount >= 1 ? Math.floor(hostDeliveryCount) : 1;
  const props =
    typeof applicationProperties === 'object' && applicationProperties !== null
      ? (applicationProperties as Record<string, unknown>)
      : {};
  const prior = Number(props['gwPriorDeliveries'] ?? 0);
  return own + (Number.isFinite(prior) && prior > 0 ? Math.floor(prior) : 0);
}
