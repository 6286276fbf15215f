import type { RouteConfig } from '../../config/schema.js';
import type { Router } from '../routing/router.js';

/** The model a route of the chain asks its pool for: the route's own, else (fallbacks) its first exact match. */
export function modelFor(route: RouteConfig, first: boolean, asked: string | undefined): string | undefined {
  if (first) return route.model ?? asked;
  return route.model ?? route.match.models?.find((m) => !m.endsWith('*')) ?? asked;
}

/** What one call has already asked of which routes and models. */
export interface FallbackProgress {
  /** Route ids tried in this call (each route at most once). */
  readonly triedRoutes: ReadonlySet<string>;
  /** Models (lower-cased) that refused this prompt as too long: the prompt is never resent to them. */
  readonly refusedModels: ReadonlySet<string>;
}

/**
 * The routes to try after `route` refused the prompt as too long for its model: the route's
 * `contextWindowFallbacks` when it names any, else its ordinary `fallbacks` (a fallback model may take a
 * longer prompt) — without routes already tried and without routes whose model already refused this prompt.
 * Empty: the refusal goes back to the caller verbatim.
 *
 * @example
 * contextWindowPlan(router, route, 'gpt-4o', { triedRoutes: new Set(['chat']), refusedModels: new Set(['gpt-4o']) });
 */
export function contextWindowPlan(
  router: Pick<Router, 'byId'>,
  route: RouteConfig,
  asked: string | undefined,
  progress: FallbackProgress,
): RouteConfig[] {
  const ids = route.contextWindowFallbacks.length > 0 ? route.contextWindowFallbacks : route.fallbacks;
  const plan: RouteConfig[] = [];
  for (const id of ids) {
    const next = router.byId(id);
    if (next === undefined || progress.triedRoutes.has(next.id)) continue;
    const model = modelFor(next, false, asked);
    if (model !== undefined && progress.refusedModels.has(model.toLowerCase())) continue;
    plan.push(next);
  }
  return plan;
}
