import type { JobStore } from '../../ports/job-store.js';
import type { PayloadStore } from '../../ports/payload-store.js';
import type { Clock } from '../clock.js';
import { JobSignals } from './job-signals.js';
import { defaultSetJobTimer, type SetJobTimer } from './job-timer.js';

/** What the job service and the job worker both depend on: the stores, the clock, signals and timers. */
export interface JobDeps {
  readonly jobs: JobStore;
  readonly payloads: PayloadStore;
  readonly clock: Clock;
  /**
   * Shared by the job service and the worker in one process (inline answers, cancellation aborts, completion
   * events, runner wake-ups); each gets a private one when none is given.
   */
  readonly signals?: JobSignals | undefined;
  readonly setTimer?: SetJobTimer | undefined;
}

/** {@link JobDeps} with the defaults applied: the part of their contexts the job service and worker share. */
export interface JobContext {
  readonly jobs: JobStore;
  readonly payloads: PayloadStore;
  readonly clock: Clock;
  readonly signals: JobSignals;
  readonly setTimer: SetJobTimer;
}

/**
 * The shared part of a job service's or worker's context: the deps as given, a private {@link JobSignals}
 * and the real timers when none are given.
 *
 * @example
 * const ctx = { ...jobContext(deps), execute: deps.execute };
 */
export function jobContext(deps: JobDeps): JobContext {
  return {
    jobs: deps.jobs,
    payloads: deps.payloads,
    clock: deps.clock,
    signals: deps.signals ?? new JobSignals(),
    setTimer: deps.setTimer ?? defaultSetJobTimer,
  };
}
