import { formatFaultSpec, type FaultSpec } from './fault-spec.js';

/** What the request itself asked for (header, model suffix, query), already parsed. */
export interface RequestRule {
  readonly spec: FaultSpec;
  /** Canonical text; also the key of its `times` counter. */
  readonly text: string;
}

/** The request facts a rule can be conditioned on. */
export interface FaultQuery {
  readonly nowMs: number;
  readonly path: string;
  /** Base model or deployment (without a `#` suffix); null when the request names none. */
  readonly model: string | null;
  readonly request: RequestRule | null;
}

/** The behaviour chosen for one request. */
export interface ResolvedFault {
  /** Instance rule fields with the request's own fields layered on top. */
  readonly spec: FaultSpec;
  /** Canonical texts of the rules that applied, joined with ` + `, for the attempts log. */
  readonly text: string;
}

const MAX_REQUEST_COUNTERS = 10_000;

/**
 * The per-instance fault state: the configured rules, the epoch their windows count from, and how often
 * each rule with `times` has fired.
 *
 * Resolution: the first instance rule whose conditions hold applies; then the request's own rule, when
 * its conditions hold, is layered on top field by field. A rule that applies uses up one of its `times`.
 *
 * @example
 * const book = new FaultBook([{ status: 503, times: 2 }], clock.now());
 * book.resolve({ nowMs: clock.now(), path: '/v1/chat/completions', model: 'gpt-4o', request: null });
 */
export class FaultBook {
  private readonly rules: readonly { spec: FaultSpec; text: string }[];
  private epochMs: number;
  private readonly instanceUses: number[];
  private readonly requestUses = new Map<string, number>();

  constructor(rules: readonly FaultSpec[], epochMs: number) {
    this.rules = rules.map((spec) => ({ spec, text: formatFaultSpec(spec) }));
    this.instanceUses = rules.map(() => 0);
    this.epochMs = epochMs;
  }

  /** True when there is nothing to check for requests that carry no rule of their own. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Forgets every counter and restarts the windows at `epochMs`. */
  reset(epochMs: number): void {
    this.epochMs = epochMs;
    this.instanceUses.fill(0);
    this.requestUses.clear();
  }

  /** Chooses (and accounts for) the behaviour of one request; null when no rule applies. */
  resolve(query: FaultQuery): ResolvedFault | null {
    let instance: { spec: FaultSpec; text: string } | null = null;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as { spec: FaultSpec; text: string };
      if (this.holds(rule.spec, this.instanceUses[i] ?? 0, query)) {
        this.instanceUses[i] = (this.instanceUses[i] ?? 0) + 1;
        instance = rule;
        break;
      }
    }
    const request = query.request;
    let requestApplies = false;
    if (request) {
      const used = this.requestUses.get(request.text) ?? 0;
      if (this.holds(request.spec, used, query)) {
        requestApplies = true;
        if (request.spec.times !== undefined) {
          if (this.requestUses.size >= MAX_REQUEST_COUNTERS) this.requestUses.clear();
          this.requestUses.set(request.text, used + 1);
        }
      }
    }
    if (!instance && !requestApplies) return null;
    if (!requestApplies) return instance;
    if (!instance) return request;
    return {
      spec: { ...instance.spec, ...(request as RequestRule).spec },
      text: `${instance.text} + ${(request as RequestRule).text}`,
    };
  }

  private holds(spec: FaultSpec, used: number, query: FaultQuery): boolean {
    if (spec.times !== undefined && used >= spec.times) return false;
    if (spec.path !== undefined && !query.path.startsWith(spec.path)) return false;
    if (spec.model !== undefined && spec.model !== query.model) return false;
    if (spec.fromMs !== undefined || spec.forMs !== undefined || spec.everyMs !== undefined) {
      let sinceMs = query.nowMs - this.epochMs - (spec.fromMs ?? 0);
      if (sinceMs < 0) return false;
      if (spec.everyMs !== undefined) sinceMs %= spec.everyMs;
      if (spec.forMs !== undefined && sinceMs >= spec.forMs) return false;
    }
    return true;
  }
}
