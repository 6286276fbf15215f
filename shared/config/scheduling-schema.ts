import { z } from 'zod';
import { DEFAULT_LEDGER_OPTIONS } from '../core/scheduling/capacity-ledger.js';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from '../core/scheduling/scheduler-options.js';

const msSchema = z.number().int().min(0);

/** Settings of one priority level (see `docs/scheduling.md`). */
export const schedulingLevelSchema = z
  .object({
    /** Slots per pool only this level may take. */
    reservedSlots: z.number().int().min(0).optional(),
    /** Waiting requests of this level per pool before new ones get 429. */
    maxQueueDepth: z.number().int().min(0).optional(),
    /**
     * Spill-over policy: group id (or `*`) → ms of waiting before this level may use it; unlisted groups are never
     * used.
     */
    groups: z.record(z.string().min(1), msSchema).optional(),
  })
  .strict();

/**
 * `scheduling.sharing`: how instances that share a capacity ledger (standalone replicas on Azure Storage,
 * the Functions app's instances) report to it. Defaults in `shared/core/scheduling/capacity-ledger.ts`;
 * the model and its bounds in `docs/scheduling.md`, "Sharing capacity across instances". Every instance of
 * a deployment should run with the same values.
 */
export const capacitySharingSchema = z
  .object({
    /** Share capacity through the ledger when the host has one (`--storage azurite`, the Functions app). */
    enabled: z.boolean().default(true),
    /** Shortest time between two reports of one instance for one pool. */
    reportIntervalMs: z.number().int().min(100).default(DEFAULT_LEDGER_OPTIONS.reportIntervalMs),
    /** An instance holding a grant reports at least this often. */
    heartbeatMs: z.number().int().min(100).default(DEFAULT_LEDGER_OPTIONS.heartbeatMs),
    /** An instance not heard from for this long is dropped and what it held returns to the pool. */
    instanceStaleMs: z.number().int().min(1_000).default(DEFAULT_LEDGER_OPTIONS.instanceStaleMs),
    /** Reports per second per pool the ledger is paced for, across all instances. */
    reportsPerSecond: z.number().positive().max(1_000).default(DEFAULT_LEDGER_OPTIONS.reportsPerSecond),
    /** Spare slots a busy instance gets beyond its demand, as a fraction of it (at least one). */
    headroomRatio: z.number().min(0).max(10).default(DEFAULT_LEDGER_OPTIONS.headroomRatio),
    /** While the ledger cannot be reached: keep an even share of the pool, or admit nothing new. */
    whenUnreachable: z.enum(['keep-even-share', 'stop']).default('keep-even-share'),
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
    sharing: capacitySharingSchema.prefault({}),
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
