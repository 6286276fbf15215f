import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { RouteConfig } from '../../config/schema.js';

/** A route decision: the route, and for path-prefix routes the path to forward. */
export interface RouteMatch {
  readonly route: RouteConfig;
  /** For path-prefix routes: the forwarded path (prefix stripped when configured). */
  readonly forwardPath: string | undefined;
}

/**
 * Matches requests to routes. Built once per configuration snapshot: exact model names in a map,
 * wildcard models (`gpt-4o*`) and path prefixes in lists ordered longest first, so a lookup costs a
 * map read in the common case.
 *
 * @example
 * const router = createRouter(config);
 * router.byModel('gpt-4o')?.route.pool
 */
export interface Router {
  /** The route serving a model or deployment name, if any. */
  byModel(model: string): RouteMatch | undefined;
  /** The route whose path prefix matches, longest prefix first. */
  byPath(path: string): RouteMatch | undefined;
  /** A route by id (fallbacks). */
  byId(id: string): RouteConfig | undefined;
  /** Every model name routed (for `GET /v1/models`). */
  models(): string[];
}

/** Builds a {@link Router} for one configuration snapshot. */
export function createRouter(config: Pick<GatewayConfig, 'routes'>): Router {
  const exact = new Map<string, RouteConfig>();
  const wildcards: { prefix: string; route: RouteConfig }[] = [];
  const prefixes: { prefix: string; route: RouteConfig }[] = [];
  const byId = new Map<string, RouteConfig>();
  for (const route of config.routes) {
    byId.set(route.id, route);
    for (const model of route.match.models ?? []) {
      if (model.endsWith('*')) wildcards.push({ prefix: model.slice(0, -1).toLowerCase(), route });
      else if (!exact.has(model.toLowerCase())) exact.set(model.toLowerCase(), route);
    }
    if (route.match.pathPrefix !== undefined)
      prefixes.push({ prefix: trimSlash(route.match.pathPrefix).toLowerCase(), route });
  }
  wildcards.sort((a, b) => b.prefix.length - a.prefix.length);
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);

  return {
    byModel(model) {
      const key = model.toLowerCase();
      const route = exact.get(key) ?? wildcards.find((w) => key.startsWith(w.prefix))?.route;
      return route && { route, forwardPath: undefined };
    },
    byPath(path) {
      const lower = path.toLowerCase();
      for (const { prefix, route } of prefixes) {
        // Segment boundary: `/echo` matches `/echo` and `/echo/x`, not `/echoes`.
        if (prefix === '' || lower === prefix || lower.startsWith(prefix + '/')) {
          const rest = path.slice(prefix.length);
          return { route, forwardPath: route.stripPrefix ? (rest === '' ? '/' : rest) : path };
        }
      }
      return undefined;
    },
    byId: (id) => byId.get(id),
    models: () => [...new Set(config.routes.flatMap((r) => (r.match.models ?? []).filter((m) => !m.endsWith('*'))))],
  };
}

function trimSlash(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix === '/' ? '' : prefix;
}
