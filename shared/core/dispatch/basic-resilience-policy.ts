import type { BackendConfig, PoolConfig } from '../../config/schema.js';
import type { AttemptPlan, AttemptVerdict, ResiliencePolicy } from './resilience-policy.js';
import { poolGroups } from './pool-members.js';

/**
 * Interim policy until the resilience core is wired: group order, weighted random inside a group,
 * failover on 408/429/5xx and transport errors, 429 cools the backend for its Retry-After.
 */
export function createBasicResiliencePolicy(random: () => number): ResiliencePolicy {
  const coolingUntil = new Map<string, number>();
  return {
    plan(pool: PoolConfig, backends: ReadonlyMap<string, BackendConfig>, nowMs: number): AttemptPlan {
      const groups = poolGroups(pool, backends);
      const out: BackendConfig[] = [];
      let earliest: number | undefined;
      for (const group of groups.order) {
        const members = [...(groups.members.get(group) ?? [])].filter((m) => {
          const until = coolingUntil.get(m.backend.id);
          if (until !== undefined && until > nowMs) {
            earliest = earliest === undefined ? until : Math.min(earliest, until);
            return false;
          }
          return true;
        });
        while (members.length > 0) {
          const total = members.reduce((s, m) => s + m.weight, 0);
          let r = random() * total;
          let index = members.findIndex((m) => (r -= m.weight) < 0);
          if (index < 0) index = members.length - 1;
          out.push(members[index]!.backend);
          members.splice(index, 1);
        }
      }
      if (out.length === 0) return { kind: 'none', reason: earliest === undefined ? 'none-configured' : 'all-cooling', retryAfterMs: earliest === undefined ? undefined : earliest - nowMs };
      return { kind: 'plan', backends: out };
    },
    tryAcquire: () => true,
    classify(o): AttemptVerdict {
      if (o.status !== undefined) {
        if (o.status === 408 || o.status === 429 || o.status >= 500) return { action: 'failover', countsAsBreakerFailure: o.status !== 429, coolDownMs: o.status === 429 ? o.retryAfterMs ?? 1000 : undefined };
        if ((o.status === 401 || o.status === 403) && o.gatewayCredentials) return { action: 'failover', countsAsBreakerFailure: true, configFault: true };
        return { action: 'return' };
      }
      if (o.errorKind === 'aborted') return { action: 'fatal', reason: 'aborted' };
      return { action: 'failover', countsAsBreakerFailure: true };
    },
    onSuccess: () => undefined,
    onFailure(backendId, verdict, nowMs) {
      if (verdict.action === 'failover' && verdict.coolDownMs !== undefined) coolingUntil.set(backendId, nowMs + verdict.coolDownMs);
    },
    retryAfterMs(headers, nowMs) {
      const ms = Number(headers['retry-after-ms'] ?? headers['x-ms-retry-after-ms']);
      if (Number.isFinite(ms) && ms > 0) return ms;
      const raw = headers['retry-after'];
      if (typeof raw !== 'string') return undefined;
      const seconds = Number(raw);
      if (Number.isFinite(seconds)) return seconds * 1000;
      const date = Date.parse(raw);
      return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
    },
    budget(_now, deadlineMs) {
      return { canAttempt: (now, n) => now < deadlineMs && n < 6, canWait: (now, wait) => now + wait < deadlineMs && wait <= 30_000 };
    },
  };
}
