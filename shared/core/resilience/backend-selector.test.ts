import { describe, expect, it } from 'vitest';
import type { BackendHealthView } from './health-tracker.js';
import {
  selectBackends,
  type BackendSelectionInput,
  type LoadBalancingMode,
  type SelectableBackend,
} from './backend-selector.js';
import { mulberry32 } from '../../../test/support/seeded-random.js';

const now = 1_000_000;

function view(id: string, partial: Partial<BackendHealthView> = {}): BackendHealthView {
  return {
    backendId: id,
    state: 'closed',
    usable: true,
    trialAvailable: false,
    availableAtMs: now,
    consecutiveOpens: 0,
    ...partial,
  };
}
const open = (id: string, untilMs: number) =>
  view(id, { state: 'open', usable: false, openUntilMs: untilMs, availableAtMs: untilMs, consecutiveOpens: 1 });
const cooling = (id: string, untilMs: number) =>
  view(id, { usable: false, coolingUntilMs: untilMs, availableAtMs: untilMs });
const halfOpen = (id: string) =>
  view(id, { state: 'half-open', usable: true, trialAvailable: true, consecutiveOpens: 1 });
const trialOut = (id: string, untilMs: number) =>
  view(id, { state: 'half-open', usable: false, availableAtMs: untilMs, consecutiveOpens: 1 });

const b = (id: string, group = 0, weight = 1): SelectableBackend => ({ id, group, weight });

function select(
  backends: SelectableBackend[],
  views: BackendHealthView[],
  mode: LoadBalancingMode = 'round-robin',
  extra: Partial<BackendSelectionInput<SelectableBackend>> = {},
) {
  return selectBackends({
    backends,
    health: new Map(views.map((v) => [v.backendId, v])),
    mode,
    random: () => 0,
    roundRobinCounter: 0,
    nowMs: now,
    ...extra,
  });
}

const ids = (r: ReturnType<typeof select>) => (r.ok ? r.plan.map((x) => x.id) : r.reason);

describe('selectBackends', () => {
  it.each<[string, SelectableBackend[], BackendHealthView[], LoadBalancingMode, number, string[] | string]>([
    ['groups in ascending order', [b('payg', 1), b('ptu', 0)], [], 'round-robin', 0, ['ptu', 'payg']],
    [
      'round robin rotates inside each group',
      [b('a'), b('b'), b('c'), b('z', 1)],
      [],
      'round-robin',
      1,
      ['b', 'c', 'a', 'z'],
    ],
    ['round robin counter wraps', [b('a'), b('b'), b('c')], [], 'round-robin', 5, ['c', 'a', 'b']],
    ['open backend skipped', [b('a'), b('b')], [open('a', now + 5_000)], 'round-robin', 0, ['b']],
    ['cooling backend skipped', [b('a'), b('b')], [cooling('a', now + 5_000)], 'round-robin', 0, ['b']],
    ['half-open with trial available kept', [b('a'), b('b')], [halfOpen('a')], 'round-robin', 0, ['a', 'b']],
    ['half-open with trial out skipped', [b('a'), b('b')], [trialOut('a', now + 1)], 'round-robin', 0, ['b']],
    [
      'group falls through when the first is all open',
      [b('ptu', 0), b('payg', 1)],
      [open('ptu', now + 1)],
      'round-robin',
      0,
      ['payg'],
    ],
    ['weight 0 drains a backend', [b('a', 0, 0), b('b')], [], 'round-robin', 0, ['b']],
    ['unknown health counts as healthy', [b('a'), b('b')], [view('a')], 'round-robin', 0, ['a', 'b']],
    [
      'lowest latency by EWMA',
      [b('a'), b('b'), b('c')],
      [view('a', { latencyEwmaMs: 300 }), view('b', { latencyEwmaMs: 100 }), view('c', { latencyEwmaMs: 200 })],
      'lowest-latency',
      0,
      ['b', 'c', 'a'],
    ],
    [
      'lowest latency falls back to probe latency',
      [b('a'), b('b')],
      [view('a', { latencyEwmaMs: 300 }), view('b', { lastProbe: { atMs: now, ok: true, latencyMs: 50 } })],
      'lowest-latency',
      0,
      ['b', 'a'],
    ],
    [
      'lowest latency tries unmeasured first',
      [b('a'), b('b')],
      [view('a', { latencyEwmaMs: 10 })],
      'lowest-latency',
      0,
      ['b', 'a'],
    ],
    [
      'lowest latency keeps groups',
      [b('a', 1), b('b', 0)],
      [view('a', { latencyEwmaMs: 1 }), view('b', { latencyEwmaMs: 999 })],
      'lowest-latency',
      0,
      ['b', 'a'],
    ],
    ['weighted random with random 0 keeps order', [b('a'), b('b'), b('c')], [], 'weighted-random', 0, ['a', 'b', 'c']],
    ['no backends', [], [], 'weighted-random', 0, 'no-backends'],
    ['only drained backends', [b('a', 0, 0)], [], 'weighted-random', 0, 'no-backends'],
    ['all open', [b('a'), b('b')], [open('a', now + 5_000), open('b', now + 3_000)], 'weighted-random', 0, 'all-open'],
    [
      'all cooling',
      [b('a'), b('b')],
      [cooling('a', now + 5_000), cooling('b', now + 3_000)],
      'weighted-random',
      0,
      'all-cooling',
    ],
    [
      'open and cooling mixed is all-open',
      [b('a'), b('b')],
      [open('a', now + 5_000), cooling('b', now + 3_000)],
      'weighted-random',
      0,
      'all-open',
    ],
  ])('%s', (_name, backends, views, mode, counter, expected) => {
    expect(ids(select(backends, views, mode, { roundRobinCounter: counter }))).toEqual(expected);
  });

  it('says when the first backend becomes usable', () => {
    const r = select([b('a'), b('b')], [open('a', now + 5_000), cooling('b', now + 3_000)]);
    expect(r).toMatchObject({ ok: false, reason: 'all-open', retryAtMs: now + 3_000 });
    const c = select([b('a'), b('b')], [cooling('a', now + 5_000), cooling('b', now + 2_000)]);
    expect(c).toMatchObject({ ok: false, reason: 'all-cooling', retryAtMs: now + 2_000 });
  });

  it('advances the round-robin counter only in round-robin mode', () => {
    expect(select([b('a')], [], 'round-robin', { roundRobinCounter: 7 }).nextRoundRobinCounter).toBe(8);
    expect(select([b('a')], [], 'weighted-random', { roundRobinCounter: 7 }).nextRoundRobinCounter).toBe(7);
  });

  it('spreads first picks by weight (statistical, seeded)', () => {
    const random = mulberry32(42);
    const backends = [b('a', 0, 1), b('b', 0, 3), b('c', 0, 6)];
    const firsts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const r = selectBackends({
        backends,
        health: new Map(),
        mode: 'weighted-random',
        random,
        roundRobinCounter: 0,
        nowMs: now,
      });
      if (!r.ok || r.plan.length !== 3) throw new Error('every plan holds the whole group');
      const first = r.plan[0]!.id;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect((firsts.get('a') ?? 0) / n).toBeCloseTo(0.1, 1);
    expect((firsts.get('b') ?? 0) / n).toBeCloseTo(0.3, 1);
    expect((firsts.get('c') ?? 0) / n).toBeCloseTo(0.6, 1);
    expect(Math.abs((firsts.get('c') ?? 0) / n - 0.6)).toBeLessThan(0.02);
  });

  it('spreads evenly in round robin over usable backends only', () => {
    const counts = new Map<string, number>();
    let counter = 0;
    for (let i = 0; i < 300; i++) {
      const r = select([b('a'), b('b'), b('c'), b('d')], [open('b', now + 1)], 'round-robin', {
        roundRobinCounter: counter,
      });
      counter = r.nextRoundRobinCounter;
      if (r.ok) counts.set(r.plan[0]!.id, (counts.get(r.plan[0]!.id) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 100, c: 100, d: 100 });
  });
});
