import { z } from 'zod';
import { baseGatewaySchema } from './schema.js';
import { governanceSchema } from './governance-schema.js';
import { resilienceSchema } from './resilience-schema.js';
import { schedulingSchema } from './scheduling-schema.js';
import { usageConfigSchema } from './usage-schema.js';
import { asyncJobsSchema } from './jobs-schema.js';

/**
 * The complete configuration schema: the base (server, limits, headers, backends, pools, routes) plus
 * the area sections, with the cross-reference checks that zod cannot express field by field
 * (unknown backend in a pool, unknown pool in a route, duplicate ids, a route falling back to itself;
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
    const duplicates = (ids: string[]): string[] => ids.filter((id, i) => ids.indexOf(id) !== i);
    for (const [section, ids] of [
      ['backends', config.backends.map((b) => b.id)],
      ['pools', config.pools.map((p) => p.id)],
      ['routes', config.routes.map((r) => r.id)],
    ] as const) {
      for (const id of new Set(duplicates([...ids])))
        ctx.addIssue({ code: 'custom', path: [section], message: `duplicate id "${id}"` });
    }
    const backendIds = new Set(config.backends.map((b) => b.id));
    const poolIds = new Set(config.pools.map((p) => p.id));
    const routeIds = new Set(config.routes.map((r) => r.id));
    config.pools.forEach((pool, i) => {
      pool.backends.forEach((member, j) => {
        const id = typeof member === 'string' ? member : member.backend;
        if (!backendIds.has(id))
          ctx.addIssue({ code: 'custom', path: ['pools', i, 'backends', j], message: `unknown backend "${id}"` });
      });
    });
    config.routes.forEach((route, i) => {
      if (!poolIds.has(route.pool))
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'pool'], message: `unknown pool "${route.pool}"` });
      route.fallbacks.forEach((f, j) => {
        if (!routeIds.has(f))
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'fallbacks', j], message: `unknown route "${f}"` });
        if (f === route.id)
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'fallbacks', j],
            message: 'a route cannot fall back to itself',
          });
      });
    });
  });

/** The validated configuration, as the engine sees it (frozen). */
export type GatewayConfig = z.output<typeof gatewaySchema>;
/** What a configuration file or source may contain before defaults are applied. */
export type GatewayConfigInput = z.input<typeof gatewaySchema>;
