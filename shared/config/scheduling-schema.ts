import { z } from 'zod';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from '../core/scheduling/scheduler-options.js';

const msSchema = z.number().int().min(0);

/** Settings of one priority level (see `docs/scheduling.md`). */
export const schedulingLevelSchema = z
  .object({
    /** Slots per pool only this level may take. */
    reservedSlots: z.number().int().min(0).optional(),
    /** Waiting requests of this level per pool before new ones get 429. */
    maxQueueDepth: z.number().int().min(0).optional(),
    /** Spill-over policy: group id (or `*`) → ms of waiting before this level may use it; unlisted groups are never used. */
    groups: z.record(z.string().min(1), msSchema).optional(),
  })
  .strict();

/**
 * The `scheduling` section of the gateway configuration: priority levels, reserved capacity, aging, fair
 * share, queue bounds, lease TTL and spill-over policy. Every field has a default, so `{}` is valid. The
 * parsed value is a valid `SchedulerOptions` for `PriorityScheduler`.
 *
 * @example
 * const scheduling = schedulingSchema.parse({
 *   agingStepMs: 20_000,
 *   perLevel: { '1': { reservedSlots: 2 }, '3': { groups: { ptu: 0, '*': 60_000 }, maxQueueDepth: 5_000 } },
 * });
 */
export const schedulingSchema = z
  .object({
    levels: z.number().int().min(1).max(100).default(DEFAULT_SCHEDULER_OPTIONS.levels),
    defaultLevel: z.number().int().min(1).default(DEFAULT_SCHEDULER_OPTIONS.defaultLevel),
    agingStepMs: msSchema.default(DEFAULT_SCHEDULER_OPTIONS.agingStepMs),
    userShareRatio: z.number().gt(0).max(1).default(DEFAULT_SCHEDULER_OPTIONS.userShareRatio),
    leaseTtlMs: z.number().int().min(1).default(DEFAULT_SCHEDULER_OPTIONS.leaseTtlMs),
    maxQueueDepth: z.number().int().min(0).default(DEFAULT_SCHEDULER_OPTIONS.maxQueueDepth),
    retryAfterMs: msSchema.default(DEFAULT_SCHEDULER_OPTIONS.retryAfterMs),
    maxRetryAfterMs: msSchema.default(DEFAULT_SCHEDULER_OPTIONS.maxRetryAfterMs),
    estimateRetryAfter: z.boolean().default(DEFAULT_SCHEDULER_OPTIONS.estimateRetryAfter),
    perLevel: z
      .record(z.string().regex(/^[1-9][0-9]*$/, 'a level number such as "1"'), schedulingLevelSchema)
      .default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.defaultLevel > config.levels) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultLevel'],
        message: `defaultLevel ${config.defaultLevel} is above levels (${config.levels})`,
      });
    }
    for (const key of Object.keys(config.perLevel)) {
      if (Number(key) > config.levels) {
        ctx.addIssue({
          code: 'custom',
          path: ['perLevel', key],
          message: `level ${key} is above levels (${config.levels})`,
        });
      }
    }
  });

/** The parsed `scheduling` section. */
export type SchedulingConfig = z.infer<typeof schedulingSchema>;

/** Compile-time proof that a parsed config can be handed to the scheduler as it is. */
const _compatible = (config: SchedulingConfig): SchedulerOptions => config;
void _compatible;
