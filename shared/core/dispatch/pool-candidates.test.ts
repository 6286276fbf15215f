import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import { eligibleCandidates, poolCandidates } from './pool-candidates.js';

const result = validateConfig({
  backends: [
    { id: 'payg', url: 'http://payg.test', kind: 'openai', group: 'payg' },
    { id: 'ptu-a', url: 'http://a.test', kind: 'openai', group: 'ptu', weight: 3 },
    { id: 'ptu-b', url: 'http://b.test', kind: 'openai', group: 'ptu' },
  ],
  pools: [{ id: 'chat', backends: ['payg', 'ptu-a', { backend: 'ptu-b', weight: 5 }], groupOrder: ['ptu', 'payg'] }],
  routes: [{ id: 'chat', match: { models: ['*'] }, pool: 'chat' }],
});
if (!result.ok) throw new Error(result.issues.join('\n'));
const { config } = result;
const backends = new Map(config.backends.map((b) => [b.id, b]));
const pool = config.pools[0]!;

describe('poolCandidates', () => {
  it("ranks each member by its group's place in the pool's group order, with the pool's weights", () => {
    const list = poolCandidates(backends)(pool);
    expect(list.map((c) => [c.id, c.group, c.weight])).toEqual([
      ['ptu-a', 0, 3],
      ['ptu-b', 0, 5],
      ['payg', 1, 1],
    ]);
    expect(list[0]!.backend).toBe(backends.get('ptu-a'));
  });

  it('builds the list once per pool', () => {
    const candidates = poolCandidates(backends);
    expect(candidates(pool)).toBe(candidates(pool));
  });
});

describe('eligibleCandidates', () => {
  const list = poolCandidates(backends)(pool);
  const ids = (l: readonly { id: string }[]) => l.map((c) => c.id);

  it('is every member when nothing is pinned or spent', () => {
    expect(eligibleCandidates(list, undefined, new Set())).toBe(list);
  });

  it('leaves out the members spent in this call', () => {
    expect(ids(eligibleCandidates(list, undefined, new Set(['ptu-a'])))).toEqual(['ptu-b', 'payg']);
  });

  it('keeps only the pinned member (affinity), and nothing once it is spent', () => {
    expect(ids(eligibleCandidates(list, 'payg', new Set()))).toEqual(['payg']);
    expect(eligibleCandidates(list, 'payg', new Set(['payg']))).toEqual([]);
  });
});
