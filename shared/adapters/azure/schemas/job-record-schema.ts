import { z } from 'zod';
import { JOB_STATUSES, type JobRecord, type JobStatus } from '../../../ports/job-store.js';
import { usageReadingSchema } from './usage-reading-schema.js';

const ms = z.number();

/** A job's owner as stored (`JobOwner`). */
export const jobOwnerSchema = z.looseObject({
  userId: z.string(),
  profileId: z.string().optional(),
  appId: z.string().optional(),
  keyId: z.string().optional(),
});

/**
 * The stored job record (docs/storage.md, "GatewayJobs" `job` column): a {@link JobRecord} without
 * `version` (kept in its own column). Loose: fields a newer writer added are kept, as the port promises.
 */
export const jobRecordSchema: z.ZodType<Omit<JobRecord, 'version'>> = z.looseObject({
  id: z.string().min(1),
  requestId: z.string(),
  owner: jobOwnerSchema,
  status: z.enum(JOB_STATUSES as readonly JobStatus[] as [JobStatus, ...JobStatus[]]),
  createdAtMs: ms,
  updatedAtMs: ms,
  startedAtMs: ms.optional(),
  finishedAtMs: ms.optional(),
  expiresAtMs: ms,
  deadlineMs: ms,
  runningUntilMs: ms.optional(),
  attempts: z.number().int().nonnegative(),
  lastError: z.looseObject({ code: z.string(), message: z.string(), atMs: ms }).optional(),
  routeId: z.string(),
  model: z.string().optional(),
  priority: z.number().int(),
  retentionMs: z.number().nonnegative(),
  usage: usageReadingSchema.optional(),
  response: z
    .looseObject({
      status: z.number().int(),
      headers: z.record(z.string(), z.string()),
      bytes: z.number().int().nonnegative(),
    })
    .optional(),
  cancelRequestedAtMs: ms.optional(),
});
