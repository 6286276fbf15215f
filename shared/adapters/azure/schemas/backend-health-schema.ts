import { z } from 'zod';
import type { BackendHealth } from '../../../ports/backend-health-store.js';

/**
 * The stored health record (docs/storage.md, "GatewayBackendHealth" `health` column): a
 * {@link BackendHealth} without `version` (its own column). Loose: fields a newer writer added are kept.
 */
export const backendHealthSchema: z.ZodType<Omit<BackendHealth, 'version'>> = z.looseObject({
  breaker: z.looseObject({
    state: z.enum(['closed', 'open', 'half-open']),
    openedAtMs: z.number().optional(),
    openUntilMs: z.number().optional(),
    consecutiveOpens: z.number().int().nonnegative(),
  }),
  coolingUntilMs: z.number().optional(),
  latencyEwmaMs: z.number().nonnegative().optional(),
  lastProbe: z
    .looseObject({
      atMs: z.number(),
      ok: z.boolean(),
      latencyMs: z.number().nonnegative(),
      status: z.number().int().optional(),
    })
    .optional(),
  updatedAtMs: z.number(),
});
