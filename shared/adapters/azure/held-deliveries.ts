/** Message key (Service Bus application property, Storage queue body field): deliveries of earlier copies. */
export const PRIOR_DELIVERIES_KEY = 'gwPriorDeliveries';

/**
 * The deliveries a re-scheduled copy carries in {@link PRIOR_DELIVERIES_KEY}: a whole number ≥ 0 (0 when
 * absent or not a positive number, so a damaged value can never lower the count).
 */
export function priorDeliveriesOf(value: unknown): number {
  const prior = Number(value ?? 0);
  return Number.isFinite(prior) && prior > 0 ? Math.floor(prior) : 0;
}

/** What a job queue adapter keeps of a delivery it handed out, until it is settled or its lock runs out. */
export interface HeldDelivery {
  lockedUntilMs: number;
}

/** Options of {@link HeldDeliveries}. */
export interface HeldDeliveriesOptions {
  /** Wall clock. */
  readonly now: () => number;
  /** Whether an error from the queue service means the lock is gone (settling then answers false). */
  readonly isLockLost: (error: unknown) => boolean;
  /**
   * `local`: a lock is lost once `lockedUntilMs` has passed, without asking the service (Storage queues,
   * where a pop receipt outlives its visibility). `service`: only the service says so (Service Bus), and an
   * expired lock is only pruned on the next `receive`.
   */
  readonly expiry: 'local' | 'service';
}

/**
 * The lock bookkeeping both job queue adapters share: deliveries by lock token, a token settled at most once,
 * a lost lock answered as `false` / `undefined` (the {@link JobQueue} port's contract) instead of an error.
 */
export class HeldDeliveries<H extends HeldDelivery> {
  private readonly held = new Map<string, H>();

  constructor(private readonly options: HeldDeliveriesOptions) {}

  hold(lockToken: string, delivery: H): void {
    this.held.set(lockToken, delivery);
  }

  /** The delivery of a token whose lock is still held. */
  get(lockToken: string): H | undefined {
    const held = this.held.get(lockToken);
    if (held === undefined || this.options.expiry === 'service' || held.lockedUntilMs > this.options.now()) {
      return held;
    }
    this.held.delete(lockToken);
    return undefined;
  }

  /** Forgets the deliveries whose lock ran out (before a receive, so tokens nobody settles do not pile up). */
  prune(): void {
    const cutoff = this.options.now();
    for (const [token, held] of this.held) if (held.lockedUntilMs < cutoff) this.held.delete(token);
  }

  /** Runs a settlement once per token; false when the lock is gone (before or during the call). */
  async settle(lockToken: string, action: (held: H) => Promise<void>): Promise<boolean> {
    const held = this.get(lockToken);
    if (held === undefined) return false;
    this.held.delete(lockToken);
    try {
      await action(held);
      return true;
    } catch (error) {
      if (this.options.isLockLost(error)) return false;
      throw error;
    }
  }

  /** Extends a lock: `renew` answers the new lock end; undefined when the lock is gone. */
  async renew(lockToken: string, renew: (held: H) => Promise<number>): Promise<number | undefined> {
    const held = this.get(lockToken);
    if (held === undefined) return undefined;
    try {
      held.lockedUntilMs = await renew(held);
      return held.lockedUntilMs;
    } catch (error) {
      if (!this.options.isLockLost(error)) throw error;
      this.held.delete(lockToken);
      return undefined;
    }
  }
}
