/**
 * True when `value` matches one of `patterns`: an exact name (case-insensitive), a prefix given as
 * `name*`, or `*` for everything. Used for allowed routes, models, deployments and header rules.
 *
 * @example
 * matchNamePattern(['gpt-4o*', 'o3'], 'gpt-4o-mini') // → true
 * matchNamePattern(['gpt-4o*'], 'gpt-35-turbo')      // → false
 */
export function matchNamePattern(patterns: readonly string[], value: string): boolean {
  const v = value.toLowerCase();
  return patterns.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.endsWith('*') ? v.startsWith(p.slice(0, -1)) : v === p;
  });
}
