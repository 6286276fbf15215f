import type { GatewayAdmission } from '../governance/admission.js';
import type { QuotaReservation } from '../governance/quota-guard.js';
import type { CallContext } from './admit.js';

/**
 * **reserve**: reserves the request's estimated tokens against the caller's profile quotas (minute and
 * day windows). Resolves `undefined` when nothing was reserved (no quota, or a job, which was charged at
 * submission); throws 429 `GW_ERR_QUOTA_EXCEEDED` with `retryAfterMs`. The record stage settles the
 * reservation against the metered usage, or gives it back.
 *
 * @example
 * const reservation = await reserve(deps.admission, context, routed.json);
 */
export async function reserve(
  admission: Pick<GatewayAdmission, 'reserveTokens'>,
  context: CallContext,
  json: Record<string, unknown> | undefined,
): Promise<QuotaReservation | undefined> {
  if (context.asyncJobId !== undefined) return undefined;
  return admission.reserveTokens(context.admission, json);
}
