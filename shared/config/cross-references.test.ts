import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from './gateway-schema.js';
import { validateConfig } from './load-config.js';

/** A valid base: two groups of backends in one pool, two routes, one profile. */
function base(): GatewayConfigInput {
  return {
    backends: [
      { id: 'ptu-1', url: 'http://127.0.0.1:9001', group: 'ptu' },
      { id: 'payg-1', url: 'http://127.0.0.1:9002', group: 'payg' },
    ],
    pools: [{ id: 'main', backends: ['ptu-1', 'payg-1'], groupOrder: ['ptu', 'payg'] }],
    routes: [
      { id: 'chat-gpt-4o', match: { models: ['gpt-4o'] }, pool: 'main', fallbacks: ['chat-mini'] },
      { id: 'chat-mini', match: { models: ['gpt-4o-mini'] }, pool: 'main' },
    ],
    scheduling: { levels: 3, perLevel: { '3': { groups: { ptu: 0, '*': 60_000 } } } },
    governance: {
      identity: { anonymous: { allowed: true, profile: 'standard' } },
      profiles: [{ id: 'standard', tier: 'standard', allowedRoutes: ['chat-*'] }],
    },
  };
}

function issuesOf(config: GatewayConfigInput): string[] {
  const result = validateConfig(config);
  return result.ok ? [] : result.issues;
}

describe('cross-reference checks', () => {
  it('accepts the base configuration', () => {
    expect(issuesOf(base())).toEqual([]);
  });

  it('refuses a groupOrder naming a group no member of the pool is in, and suggests the close one', () => {
    const config = base();
    config.pools![0]!.groupOrder = ['ptu', 'paygo'];
    expect(issuesOf(config)).toEqual([
      'pools.0.groupOrder.1: no backend of pool "main" is in group "paygo" (did you mean "payg"?); ' +
        'its groups: "ptu", "payg" (a backend\'s group is backends[].group, or pools[].backends[].group)',
    ]);
  });

  it('sees a group given by the pool member override', () => {
    const config = base();
    config.pools![0]!.backends = ['ptu-1', { backend: 'payg-1', group: 'spill' }];
    config.pools![0]!.groupOrder = ['ptu', 'spill'];
    config.scheduling = {};
    expect(issuesOf(config)).toEqual([]);
  });

  it('suggests the close name for an unknown backend, pool, fallback route and profile route', () => {
    const config = base();
    config.pools![0]!.backends = ['ptu-1', 'payg-l'];
    config.pools![0]!.groupOrder = undefined;
    config.routes![0]!.pool = 'mian';
    config.routes![0]!.fallbacks = ['chat-mni'];
    config.governance!.profiles![0]!.allowedRoutes = ['chat-gpt4o', 'embed-*'];
    expect(issuesOf(config)).toEqual([
      'pools.0.backends.1: unknown backend "payg-l" (did you mean "payg-1"?)',
      'routes.0.pool: unknown pool "mian" (did you mean "main"?)',
      'routes.0.fallbacks.0: unknown route "chat-mni" (did you mean "chat-mini"?)',
      'governance.profiles.0.allowedRoutes.0: unknown route "chat-gpt4o" (did you mean "chat-gpt-4o"?)',
      'governance.profiles.0.allowedRoutes.1: "embed-*" matches no route (routes: "chat-gpt-4o", "chat-mini")',
    ]);
  });

  it('checks context-window fallbacks like fallbacks: the route must exist and cannot be the route itself', () => {
    const config = base();
    config.routes![0]!.contextWindowFallbacks = ['chat-mni', 'chat-gpt-4o'];
    expect(issuesOf(config)).toEqual([
      'routes.0.contextWindowFallbacks.0: unknown route "chat-mni" (did you mean "chat-mini"?)',
      'routes.0.contextWindowFallbacks.1: a route cannot fall back to itself',
    ]);
  });

  it('gives no suggestion when nothing is close', () => {
    const config = base();
    config.routes![1]!.pool = 'embeddings';
    expect(issuesOf(config)).toEqual(['routes.1.pool: unknown pool "embeddings"']);
  });

  it('refuses a backend listed twice in a pool and a group listed twice in groupOrder', () => {
    const config = base();
    config.pools![0]!.backends = ['ptu-1', 'payg-1', 'ptu-1'];
    config.pools![0]!.groupOrder = ['ptu', 'payg', 'ptu'];
    expect(issuesOf(config)).toEqual([
      'pools.0.backends.2: backend "ptu-1" is listed twice in this pool',
      'pools.0.groupOrder.2: group "ptu" is listed twice',
    ]);
  });

  it('refuses two routes claiming one model name or one path prefix (the first would always win)', () => {
    const config = base();
    config.routes!.push(
      { id: 'again', match: { models: ['GPT-4o'] }, pool: 'main' },
      { id: 'search', match: { pathPrefix: '/search/' }, pool: 'main' },
      { id: 'search-2', match: { pathPrefix: '/Search' }, pool: 'main' },
    );
    expect(issuesOf(config)).toEqual([
      'routes.2.match.models.0: model "gpt-4o" is already matched by route "chat-gpt-4o"; ' +
        'the first route would always win (case-insensitive)',
      'routes.4.match.pathPrefix: path prefix "/search" is already matched by route "search"; ' +
        'the first route would always win (case-insensitive)',
    ]);
  });

  it('refuses a spill-over policy naming a group no backend is in', () => {
    const config = base();
    config.scheduling = { perLevel: { '3': { groups: { PTU: 0, '*': 1000 } } } };
    expect(issuesOf(config)).toEqual([
      'scheduling.perLevel.3.groups.PTU: no backend is in group "PTU" (did you mean "ptu"?); groups: "ptu", "payg"',
    ]);
  });

  it('refuses priority levels the scheduler does not have', () => {
    const config = base();
    config.scheduling = { levels: 2, defaultLevel: 1 };
    config.governance!.tiers = { standard: 2, batch: 3 };
    config.governance!.priority = { defaultLevel: 2, keys: { background: 4 } };
    config.governance!.profiles!.push({ id: 'etl', tier: 'batch', priority: { default: 3 } });
    expect(issuesOf(config)).toEqual([
      'governance.priority.keys.background: priority key "background" is level 4, but scheduling.levels is 2 ' +
        '(it would run at level 2)',
      'governance.tiers.batch: tier "batch" is level 3, but scheduling.levels is 2 (it would run at level 2)',
      'governance.profiles.1.priority.default: profile "etl"\'s default is level 3, but scheduling.levels is 2 ' +
        '(it would run at level 2)',
    ]);
  });

  it('suggests the close tier and profile in the governance section', () => {
    const config = base();
    config.governance!.profiles![0]!.tier = 'standart';
    config.governance!.identity!.anonymous!.profile = 'Standard';
    expect(issuesOf(config)).toEqual([
      'governance.profiles.0.tier: unknown tier "standart" (did you mean "standard"?) ' +
        '(tiers: "interactive", "standard", "batch"; add it to governance.tiers)',
      'governance.identity.anonymous.profile: unknown profile "Standard" (did you mean "standard"?)',
    ]);
  });
});
