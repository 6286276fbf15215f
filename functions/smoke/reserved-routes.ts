/**
 * Route prefixes the Functions host keeps for itself: `admin` (its admin API — `/admin/host/status`,
 * `/admin/functions/…`, the warm-up route) and `runtime` (extensions' webhooks — `/runtime/webhooks/durabletask`,
 * `/runtime/webhooks/eventgrid`, …). The host refuses a function whose route starts with either ("The
 * specified route conflicts with one or more built in routes"), whatever `routePrefix` is: its check
 * (`ScriptHost.ValidateHttpFunction`, azure-functions-host) is a plain string prefix test on the route
 * lower-cased and trimmed of `/`, so `administration/x` and `runtimes` are refused too (ADR 0009).
 */
export const RESERVED_ROUTE_PREFIXES = ['admin', 'runtime'] as const;

/**
 * The reserved prefix `route` starts with, the way the host tests it; `undefined` when it is free.
 *
 * @example
 * reservedRoutePrefix('admin/{*rest}'); // 'admin'
 * reservedRoutePrefix('gateway/admin/{*rest}'); // undefined
 */
export function reservedRoutePrefix(route: string): string | undefined {
  const normalized = route.replace(/^\/+|\/+$/g, '').toLowerCase();
  return RESERVED_ROUTE_PREFIXES.find((prefix) => normalized.startsWith(prefix));
}
