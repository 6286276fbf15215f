import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import type { Lease, SchedulerStats } from '../../shared/core/scheduling/scheduler-types.js';
import { postJson, startFaultHarness, type FaultHarness } from '../faults/fault-harness.js';

/** API keys of the scenario's callers (test values, never real secrets). */
export const KEYS = {
  /** Profile `interactive` (tier 1), user `search`. */
  search: 'sk-saturation-search',
  /** Profile `batch` (tier 3), user `etl`: the greedy caller. */
  etl: 'sk-saturation-etl',
  /** Admin key for `GET /gateway/admin/status`. */
  admin: 'sk-saturation-admin',
} as const;

/** The pool every call goes to. */
export const POOL_ID = 'main';

/**
 * Who calls and how its priority is derived:
 * - `api-key` callers are mapped to a profile whose tier gives the level (`interactive` → 1, `batch` → 3);
 * - trusted-upstream callers name their profile (`X-UserProfile`) and user (`X-UserID`); profile
 *   `standard` (level 2) may ask for level 1 with `x-gateway-priority: urgent`.
 */
export interface Caller {
  /** Label in reports, e.g. `etl#3`, `batch-07`. */
  readonly label: string;
  readonly userId: string;
  /** The level governance is expected to give this caller. */
  readonly level: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A caller with the `interactive` API key (level 1, user `search`). */
export function searchCaller(n: number): Caller {
  return { label: `search#${n}`, userId: 'search', level: 1, headers: { 'api-key': KEYS.search } };
}

/** A trusted-upstream caller of profile `standard` asking for `urgent` (level 1). */
export function urgentCaller(userId: string, n: number): Caller {
  return {
    label: `${userId}#${n}`,
    userId,
    level: 1,
    headers: { 'x-userprofile': 'standard', 'x-userid': userId, 'x-gateway-priority': 'urgent' },
  };
}

/** A caller with the `batch` API key (level 3, user `etl`). */
export function etlCaller(n: number): Caller {
  return { label: `etl#${n}`, userId: 'etl', level: 3, headers: { 'api-key': KEYS.etl } };
}

/** A trusted-upstream caller of profile `batch` (level 3) with its own user id. */
export function batchCaller(userId: string): Caller {
  return { label: userId, userId, level: 3, headers: { 'x-userprofile': 'batch', 'x-userid': userId } };
}

/** Options of {@link saturationConfig}. */
export interface SaturationConfigOptions {
  /** Concurrent calls the one backend takes: the pool's capacity. */
  readonly capacity: number;
  readonly scheduling: NonNullable<GatewayConfigInput['scheduling']>;
}

/**
 * One simulator backend `a` (`maxConcurrency` = capacity) in pool `main`, a catch-all model route, API
 * keys and trusted-upstream identities mapped to tiered profiles, and an admin key.
 */
export function saturationConfig(
  urls: Readonly<Record<string, string>>,
  options: SaturationConfigOptions,
): GatewayConfigInput {
  return {
    backends: [{ id: 'a', url: urls.a!, kind: 'openai', maxConcurrency: options.capacity }],
    pools: [{ id: POOL_ID, backends: ['a'] }],
    routes: [{ id: 'all', match: { models: ['*'] }, pool: POOL_ID }],
    scheduling: options.scheduling,
    usage: { ledger: { kind: 'memory' } },
    governance: {
      identity: {
        apiKeys: {
          enabled: true,
          keys: [
            { id: 'search', sha256: hashApiKey(KEYS.search), profile: 'interactive', userId: 'search' },
            { id: 'etl', sha256: hashApiKey(KEYS.etl), profile: 'batch', userId: 'etl' },
          ],
        },
        trustedUpstream: { enabled: true },
      },
      tiers: { interactive: 1, standard: 2, batch: 3 },
      priority: { keys: { urgent: 1, normal: 2, background: 3 } },
      profiles: [
        { id: 'interactive', tier: 'interactive' },
        { id: 'standard', tier: 'standard', priority: { max: 1 } },
        { id: 'batch', tier: 'batch' },
      ],
      admin: { keys: [{ id: 'ops', sha256: hashApiKey(KEYS.admin) }] },
    },
  };
}

/** Starts the gateway (Node host on port 0) in front of one simulator slowed to `latencyMs`. */
export function startSaturationGateway(
  options: SaturationConfigOptions & { readonly latencyMs: number },
): Promise<FaultHarness> {
  return startFaultHarness({
    simulators: { a: { latencyMs: options.latencyMs } },
    config: (urls) => saturationConfig(urls, options),
  });
}

/** What the caller saw. */
export interface CallAnswer {
  readonly status: number;
  readonly requestId: string;
  readonly errorCode: string | undefined;
}

/** A call sent to the gateway and confirmed to be in the scheduler. */
export interface SentCall {
  readonly caller: Caller;
  /** 0-based order in which the scheduler received it (sends are serialised, so this is exact). */
  readonly arrival: number;
  readonly answer: Promise<CallAnswer>;
}

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] };

/** POSTs one chat completion as `caller` and reads the whole answer. */
export async function call(h: FaultHarness, caller: Caller, signal?: AbortSignal): Promise<CallAnswer> {
  const response = await postJson(`${h.url}/v1/chat/completions`, CHAT, { ...caller.headers }, signal);
  const text = await response.text();
  let errorCode: string | undefined;
  if (response.status >= 400) {
    try {
      errorCode = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      errorCode = undefined;
    }
  }
  return { status: response.status, requestId: response.headers.get('x-gateway-request-id') ?? '', errorCode };
}

/**
 * Resolves once `condition` holds, checking every `intervalMs`; rejects after `timeoutMs`. A bounded
 * wait on an observable state (the scheduler's counters), never a guess at how long something takes.
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 1,
): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Sends calls one after another, each only once the scheduler has counted the previous one
 * (`totals.enqueued`), so that arrival order at the scheduler is the order of `callers`.
 */
export async function sendInOrder(
  h: FaultHarness,
  callers: readonly Caller[],
  firstArrival: number,
): Promise<SentCall[]> {
  const sent: SentCall[] = [];
  for (const [i, caller] of callers.entries()) {
    const target = h.runtime.gate.stats().totals.enqueued + 1;
    const answer = call(h, caller);
    // A call that fails admission never reaches the scheduler: stop waiting for it and let the check report it.
    let settled = false;
    void answer.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await waitUntil(
      () => settled || h.runtime.gate.stats().totals.enqueued >= target,
      `${caller.label} to reach the scheduler`,
    );
    sent.push({ caller, arrival: firstArrival + i, answer });
  }
  return sent;
}

/** One call's observed outcome, from the caller's answer, the call summary and the usage record. */
export interface ObservedCall {
  readonly label: string;
  readonly userId: string;
  /** The level governance gave it (as recorded in the lease). */
  readonly level: number;
  readonly expectedLevel: number;
  readonly arrival: number;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly requestId: string;
  readonly lease: Lease | undefined;
  /** Grant order: the scheduler numbers leases `lease-1`, `lease-2`, … in the order it grants them. */
  readonly grantNo: number;
  /** Enqueue instant on the scheduler's clock (grant instant less the wait). */
  readonly enqueuedAtMs: number;
  /** The usage record's `timings.queueWaitMs`. */
  readonly queueWaitMs: number;
  /** The usage record's `grant`. */
  readonly grant: { group: string; reason: string } | null;
  /** Lease hold time, upper bound: the call's total time less its queue wait. */
  readonly holdMs: number;
}

/** Waits for every answer and joins it with its call summary and usage record. */
export async function observe(h: FaultHarness, sent: readonly SentCall[]): Promise<ObservedCall[]> {
  const answers = await Promise.all(sent.map((s) => s.answer));
  // The engine reports a call when its body has ended, after the caller's last byte: wait for the reports.
  await waitUntil(() => answers.every((a) => h.calls.some((c) => c.requestId === a.requestId)), 'every call summary');
  const observed: ObservedCall[] = [];
  for (const [i, s] of sent.entries()) {
    const answer = answers[i]!;
    const summary = h.calls.find((c) => c.requestId === answer.requestId)!;
    let record = await h.usageRecord(answer.requestId);
    for (let tries = 0; record === undefined && tries < 1000; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      record = await h.usageRecord(answer.requestId);
    }
    const lease = summary.lease;
    observed.push({
      label: s.caller.label,
      userId: s.caller.userId,
      level: lease?.level ?? 0,
      expectedLevel: s.caller.level,
      arrival: s.arrival,
      status: answer.status,
      errorCode: answer.errorCode,
      requestId: answer.requestId,
      lease,
      grantNo: lease === undefined ? Number.NaN : Number(lease.leaseId.slice('lease-'.length)),
      enqueuedAtMs: lease === undefined ? Number.NaN : lease.grantedAtMs - lease.waitedMs,
      queueWaitMs: record?.timings.queueWaitMs ?? summary.queueWaitMs,
      grant: record?.grant ?? null,
      holdMs: Math.max(0, summary.totalMs - summary.queueWaitMs),
    });
  }
  return observed;
}

/** The scheduler's figures for the scenario's pool. */
export function poolStats(stats: SchedulerStats): SchedulerStats['pools'][number] | undefined {
  return stats.pools.find((p) => p.poolId === POOL_ID);
}
