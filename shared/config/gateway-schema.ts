import { z } from 'zod';
import { baseGatewaySchema } from './schema.js';
import { governanceSchema } from './governance-schema.js';
import { resilienceSchema } from './resilience-schema.js';
import { schedulingSchema } from './scheduling-schema.js';
import { usageConfigSchema } from './usage-schema.js';
import { asyncJobsSchema } from './jobs-schema.js';
import { crossReferenceProblems } from './cross-references.js';

/**
 * The complete configuration schema: the base (server, limits, headers, backends, pools, routes) plus
 * the area sections, with the cross-reference checks that zod cannot express field by field
 * (`cross-references.ts`: every name one section uses for another exists, with a "did you mean";
 * fallbacks are followed one level deep, so longer cycles cannot loop).
 */
export const gatewaySchema = baseGatewaySchema
  .extend({
    resilience: resilienceSchema.prefault({}),
    scheduling: schedulingSchema.prefault({}),
    governance: governanceSchema.prefault({}),
    usage: usageConfigSchema,
    async: asyncJobsSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    for (const problem of crossReferenceProblems(config))
      ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  });

/** The validated configuration, as the engine sees it (frozen). */
export type GatewayConfig = z.output<typeof gatewaySchema>;
/** What a configuration file or source may contain before defaults are applied. */
export type GatewayConfigInput = z.input<typeof gatewaySchema>;
