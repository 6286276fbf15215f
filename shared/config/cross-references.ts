import { matchNamePattern } from '../core/governance/match-name-pattern.js';
import { didYouMean, nameList } from './did-you-mean.js';
import type { GovernanceConfig } from './governance-schema.js';
import type { BackendConfig, PoolConfig, RouteConfig } from './schema.js';
import type { SchedulingConfig } from './scheduling-schema.js';

/**
 * The checks between sections that no field schema can make: every name one part of the configuration
 * uses for another (a pool's backends and groups, a route's pool, fallbacks and context-window fallbacks, a
 * profile's routes, a spill-over policy's groups, priority levels against `scheduling.levels`) names something
 * that exists, with a "did you mean" where a close name does. Pure: the parsed config in, the problems out.
 */

/** One problem, at the path of the value that names the missing thing. */
export interface ConfigProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** The parts of a parsed configuration the checks read. */
export interface CrossReferenceInput {
  readonly backends: readonly BackendConfig[];
  readonly pools: readonly PoolConfig[];
  readonly routes: readonly RouteConfig[];
  readonly scheduling: SchedulingConfig;
  readonly governance: GovernanceConfig;
}

const memberId = (m: PoolConfig['backends'][number]): string => (typeof m === 'string' ? m : m.backend);

/** Duplicate ids of backends, pools and routes. */
function duplicateIds(config: CrossReferenceInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [section, ids] of [
    ['backends', config.backends.map((b) => b.id)],
    ['pools', config.pools.map((p) => p.id)],
    ['routes', config.routes.map((r) => r.id)],
  ] as const) {
    const twice = new Set(ids.filter((id, i) => ids.indexOf(id) !== i));
    for (const id of twice) problems.push({ path: [section], message: `duplicate id "${id}"` });
  }
  return problems;
}

/** The group of each member of a pool (pool overrides applied), members naming unknown backends skipped. */
function memberGroups(pool: PoolConfig, backends: ReadonlyMap<string, BackendConfig>): string[] {
  const groups: string[] = [];
  for (const member of pool.backends) {
    const backend = backends.get(memberId(member));
    if (backend === undefined) continue;
    const group = (typeof member === 'string' ? undefined : member.group) ?? backend.group;
    if (!groups.includes(group)) groups.push(group);
  }
  return groups;
}

/** Pool members name backends (once each); `groupOrder` names groups the pool's members are in. */
function poolReferences(config: CrossReferenceInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const backends = new Map(config.backends.map((b) => [b.id, b]));
  config.pools.forEach((pool, i) => {
    const seen = new Set<string>();
    pool.backends.forEach((member, j) => {
      const id = memberId(member);
      if (!backends.has(id))
        problems.push({
          path: ['pools', i, 'backends', j],
          message: `unknown backend "${id}"${didYouMean(id, backends.keys())}`,
        });
      else if (seen.has(id))
        problems.push({ path: ['pools', i, 'backends', j], message: `backend "${id}" is listed twice in this pool` });
      seen.add(id);
    });
    const groups = memberGroups(pool, backends);
    pool.groupOrder?.forEach((group, k) => {
      if (pool.groupOrder!.indexOf(group) !== k)
        problems.push({ path: ['pools', i, 'groupOrder', k], message: `group "${group}" is listed twice` });
      else if (!groups.includes(group))
        problems.push({
          path: ['pools', i, 'groupOrder', k],
          message:
            `no backend of pool "${pool.id}" is in group "${group}"${didYouMean(group, groups)}; ` +
            `its groups: ${nameList(groups)} (a backend's group is backends[].group, or pools[].backends[].group)`,
        });
    });
  });
  return problems;
}

/** Routes name pools and fallback routes; no two routes claim the same model name or path prefix. */
function routeReferences(config: CrossReferenceInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const poolIds = config.pools.map((p) => p.id);
  const routeIds = config.routes.map((r) => r.id);
  const claimed = new Map<string, string>();
  config.routes.forEach((route, i) => {
    if (!poolIds.includes(route.pool))
      problems.push({
        path: ['routes', i, 'pool'],
        message: `unknown pool "${route.pool}"${didYouMean(route.pool, poolIds)}`,
      });
    for (const key of ['fallbacks', 'contextWindowFallbacks'] as const)
      route[key].forEach((f, j) => {
        if (f === route.id)
          problems.push({ path: ['routes', i, key, j], message: 'a route cannot fall back to itself' });
        else if (!routeIds.includes(f))
          problems.push({
            path: ['routes', i, key, j],
            message: `unknown route "${f}"${didYouMean(f, routeIds)}`,
          });
      });
    const keys: [string, (string | number)[]][] = (route.match.models ?? []).map((m, j) => [
      `model "${m.toLowerCase()}"`,
      ['routes', i, 'match', 'models', j],
    ]);
    if (route.match.pathPrefix !== undefined)
      keys.push([`path prefix "${trimPrefix(route.match.pathPrefix)}"`, ['routes', i, 'match', 'pathPrefix']]);
    for (const [key, path] of keys) {
      const owner = claimed.get(key);
      if (owner !== undefined && owner !== route.id)
        problems.push({
          path,
          message: `${key} is already matched by route "${owner}"; the first route would always win (case-insensitive)`,
        });
      else claimed.set(key, route.id);
    }
  });
  return problems;
}

/** How the router compares path prefixes: lower case, no trailing slash. */
function trimPrefix(prefix: string): string {
  const p = prefix.toLowerCase();
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Profiles' `allowedRoutes` name routes: an exact id exists, a `prefix*` matches at least one. */
function profileRouteReferences(config: CrossReferenceInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const routeIds = config.routes.map((r) => r.id);
  if (routeIds.length === 0) return problems;
  config.governance.profiles.forEach((profile, i) => {
    profile.allowedRoutes?.forEach((pattern, j) => {
      if (pattern === '*' || routeIds.some((id) => matchNamePattern([pattern], id))) return;
      const path = ['governance', 'profiles', i, 'allowedRoutes', j];
      const message = pattern.endsWith('*')
        ? `"${pattern}" matches no route (routes: ${nameList(routeIds)})`
        : `unknown route "${pattern}"${didYouMean(pattern, routeIds)}`;
      problems.push({ path, message });
    });
  });
  return problems;
}

/** `scheduling.perLevel.<level>.groups` names groups that some backend is in. */
function schedulingGroupReferences(config: CrossReferenceInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.backends.length === 0) return problems;
  const backends = new Map(config.backends.map((b) => [b.id, b]));
  const groups = new Set(config.backends.map((b) => b.group));
  for (const pool of config.pools) for (const g of memberGroups(pool, backends)) groups.add(g);
  for (const [level, settings] of Object.entries(config.scheduling.perLevel)) {
    for (const group of Object.keys(settings.groups ?? {})) {
      if (group === '*' || groups.has(group)) continue;
      problems.push({
        path: ['scheduling', 'perLevel', level, 'groups', group],
        message: `no backend is in group "${group}"${didYouMean(group, groups)}; groups: ${nameList(groups)}`,
      });
    }
  }
  return problems;
}

/** Levels the governance section hands out exist in the scheduler (`1..scheduling.levels`). */
function levelReferences(config: CrossReferenceInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const levels = config.scheduling.levels;
  const g = config.governance;
  const check = (level: number | undefined, path: (string | number)[], what: string): void => {
    if (level !== undefined && level > levels)
      problems.push({
        path,
        message: `${what} is level ${level}, but scheduling.levels is ${levels} (it would run at level ${levels})`,
      });
  };
  check(g.priority.defaultLevel, ['governance', 'priority', 'defaultLevel'], 'the default priority');
  for (const [key, level] of Object.entries(g.priority.keys))
    check(level, ['governance', 'priority', 'keys', key], `priority key "${key}"`);
  const usedTiers = new Set(g.profiles.map((p) => p.tier));
  for (const [tier, level] of Object.entries(g.tiers))
    if (usedTiers.has(tier)) check(level, ['governance', 'tiers', tier], `tier "${tier}"`);
  g.profiles.forEach((p, i) => {
    check(p.priority.default, ['governance', 'profiles', i, 'priority', 'default'], `profile "${p.id}"'s default`);
    check(p.priority.max, ['governance', 'profiles', i, 'priority', 'max'], `profile "${p.id}"'s max`);
  });
  return problems;
}

/**
 * Every cross-reference problem of a parsed configuration, in section order.
 *
 * @example
 * for (const p of crossReferenceProblems(parsed)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
 */
export function crossReferenceProblems(config: CrossReferenceInput): ConfigProblem[] {
  return [
    ...duplicateIds(config),
    ...poolReferences(config),
    ...routeReferences(config),
    ...schedulingGroupReferences(config),
    ...levelReferences(config),
    ...profileRouteReferences(config),
  ];
}
