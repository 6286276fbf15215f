import { z } from 'zod';
import type { UsageReading } from '../../../core/usage/usage-reading.js';

const figure = z.number().nonnegative();
const figureSource = z.enum(['reported', 'estimated', 'none']);

/** A stored {@link UsageReading} (a job record's `usage`). */
export const usageReadingSchema: z.ZodType<UsageReading> = z.looseObject({
  promptTokens: figure,
  completionTokens: figure,
  totalTokens: figure,
  cachedInputTokens: figure,
  cacheCreationTokens: figure,
  reasoningTokens: figure,
  servedModel: z.string().nullable(),
  source: z.enum(['reported', 'estimated', 'partial', 'none']),
  promptSource: figureSource,
  completionSource: figureSource,
});
