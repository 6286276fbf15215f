import type { JobRecord } from '../../ports/job-store.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { WorkerContext } from './job-worker-context.js';

/** Why a run was stopped: its deadline, the host shutting down, or the job no longer this worker's. */
export type AbortCause = 'deadline' | 'shutdown' | 'lease-lost';

/**
 * One run of a job, held under a lease: the run's abort signal (cancellation through {@link JobSignals},
 * the job's run deadline, the host's shutdown signal) and a heartbeat that renews the lease every half lease,
 * conditional on the record's version. A renewal that does not apply — the job was cancelled, taken over
 * or swept — stops the run rather than race the new owner.
 *
 * @example
 * const lease = new JobRunLease(ctx, claimed, hostSignal);
 * try { await execute(request(lease.signal)); await lease.stopHeartbeat(); } finally { lease.dispose(); }
 */
export class JobRunLease {
  private readonly ctx: WorkerContext;
  private readonly job: JobRecord;
  private readonly hostSignal: AbortSignal | undefined;
  private readonly controller = new AbortController();
  private cause: AbortCause | undefined;
  private heldVersion: number;
  private disarmHeartbeat: () => void = () => undefined;
  private renewing: Promise<void> | undefined;
  private heartbeatStopped = false;
  private readonly unregister: () => void;
  private readonly disarmDeadline: () => void;
  private readonly onHostAbort = (): void => this.abort('shutdown', new GatewayError('GW_ERR_SERVICE_SHUTTING_DOWN'));

  constructor(ctx: WorkerContext, job: JobRecord, hostSignal: AbortSignal | undefined) {
    this.ctx = ctx;
    this.job = job;
    this.hostSignal = hostSignal;
    this.heldVersion = job.version;
    this.unregister = ctx.signals.registerRun(job.id, this.controller);
    this.disarmDeadline = ctx.setTimer(
      () =>
        this.abort(
          'deadline',
          new GatewayError('GW_ERR_BACKEND_TIMEOUT', { message: "The job's run deadline passed." }),
        ),
      job.deadlineMs - ctx.clock.now(),
    );
    this.heartbeat();
    hostSignal?.addEventListener('abort', this.onHostAbort, { once: true });
    if (hostSignal?.aborted === true) this.onHostAbort();
  }

  /** Aborted when the run must stop (see {@link abortCause}). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The job record's version this lease holds: the run's final transition is conditional on it. */
  get version(): number {
    return this.heldVersion;
  }

  /** Why the run was stopped, if it was (the first cause wins). */
  get abortCause(): AbortCause | undefined {
    return this.cause;
  }

  /** Stops renewing and waits for a renewal in flight: the final transition is conditional on the version. */
  async stopHeartbeat(): Promise<void> {
    this.heartbeatStopped = true;
    this.disarmHeartbeat();
    await this.renewing;
  }

  /** Disarms every timer and listener; call once the run is over, however it ended. */
  dispose(): void {
    this.disarmDeadline();
    this.heartbeatStopped = true;
    this.disarmHeartbeat();
    this.unregister();
    this.hostSignal?.removeEventListener('abort', this.onHostAbort);
  }

  private abort(cause: AbortCause, reason: unknown): void {
    this.cause ??= cause;
    this.controller.abort(reason);
  }

  private heartbeat(): void {
    if (this.heartbeatStopped) return;
    this.disarmHeartbeat = this.ctx.setTimer(() => {
      this.renewing = this.renew();
    }, this.ctx.leaseMs / 2);
  }

  private renew(): Promise<void> {
    const now = this.ctx.clock.now();
    const { job } = this;
    return this.ctx.jobs
      .transition(
        job.id,
        ['running'],
        { updatedAtMs: now, runningUntilMs: now + this.ctx.leaseMs },
        { ifVersion: this.heldVersion },
      )
      .then(
        (renewed) => {
          if (renewed.applied && renewed.job !== undefined) {
            this.heldVersion = renewed.job.version;
            if (!this.controller.signal.aborted) this.heartbeat();
          } else {
            // Cancelled, taken over or swept: stop the backend call rather than race the new owner.
            this.abort(
              'lease-lost',
              new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED', {
                message: 'The job is no longer this worker’s to run.',
              }),
            );
          }
        },
        () => this.heartbeat(),
      );
  }
}
