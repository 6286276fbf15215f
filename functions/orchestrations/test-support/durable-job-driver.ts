import type { ManualTimers } from '../../../shared/core/jobs/test-support/manual-timers.js';
import type { GatewayRequestInput } from '../gateway-request.js';
import {
  ENQUEUE_JOB_ACTIVITY,
  FINALIZE_JOB_ACTIVITY,
  GATEWAY_REQUEST_ORCHESTRATOR,
  JOB_FINISHED_EVENT,
} from '../names.js';
import { ActionType, OrchestrationReplay, type Episode, type NumberedAction } from './replay.js';
import type { EntityHost } from './virtual-deployment.js';

/**
 * Plays the Durable extension's part for one `gatewayRequest` orchestration in virtual time: runs each
 * episode through durable-functions' replay engine, carries its entity calls and signals to the
 * {@link EntityHost}, completes its activities (the worker "runs" the job for `holdMs`, then raises
 * `JobFinished`), and fires its timers when the clock reaches them. Events are raised by the test.
 */
export class DurableJobDriver {
  readonly replay: OrchestrationReplay;
  /** When the job was enqueued (granted) and finished, on the virtual clock. */
  grantedAtMs: number | undefined;
  finishedAtMs: number | undefined;
  /** Backstop timers that fired (each means the job woke without an event). */
  backstopsFired = 0;
  last: Episode | undefined;
  private readonly handled = new Set<number>();
  private driving: Promise<void> = Promise.resolve();

  constructor(
    handler: (...args: unknown[]) => unknown,
    readonly input: GatewayRequestInput,
    private readonly host: EntityHost,
    private readonly timers: ManualTimers,
    private readonly holdMs: number,
  ) {
    this.replay = new OrchestrationReplay(handler, GATEWAY_REQUEST_ORCHESTRATOR, input, input.jobId);
  }

  /** The job holds a slot now (enqueued, not finished). */
  get running(): boolean {
    return this.grantedAtMs !== undefined && this.finishedAtMs === undefined;
  }

  /** Runs episodes until the orchestration waits on something outside (an event, a timer, the worker). */
  drive(): Promise<void> {
    this.driving = this.driving.then(() => this.untilQuiet());
    return this.driving;
  }

  /** Delivers an event (e.g. the entity's `CapacityGranted`) and drives. */
  raise(name: string, body: unknown): Promise<void> {
    this.replay.raise(name, body);
    return this.drive();
  }

  private async untilQuiet(): Promise<void> {
    for (let episodes = 0; episodes < 50; episodes++) {
      this.last = await this.replay.run(new Date(this.timers.clock.now()));
      const fresh = this.last.actions.filter((a) => a.id !== undefined && !this.handled.has(a.id));
      for (const action of fresh) this.handled.add(action.id!);
      let answered = false;
      for (const action of fresh) answered = (await this.carry(action)) || answered;
      if (!answered || this.last.isDone) return;
    }
  }

  /** Carries out one action; true when its answer is already in the history (run again). */
  private async carry(action: NumberedAction): Promise<boolean> {
    const now = this.timers.clock.now();
    switch (action.actionType) {
      case ActionType.CallEntity:
        this.replay.answerEntity(action.id!, await this.host.operate(String(action['operation']), action['input']));
        return true;
      case ActionType.SignalEntity:
        await this.host.operate(String(action['operation']), action['input']);
        return false;
      case ActionType.CallActivity:
        if (action['functionName'] === ENQUEUE_JOB_ACTIVITY) {
          this.grantedAtMs = now;
          this.timers.setTimer(() => {
            this.finishedAtMs = this.timers.clock.now();
            void this.raise(JOB_FINISHED_EVENT, { status: 'succeeded' });
          }, this.holdMs);
          this.replay.completeActivity(action.id!, null);
        } else if (action['functionName'] === FINALIZE_JOB_ACTIVITY) {
          this.replay.completeActivity(action.id!, { status: 'succeeded' });
        }
        return true;
      case ActionType.CreateTimer: {
        const fireAt = new Date(action['fireAt'] as string);
        this.timers.setTimer(() => {
          if (this.last?.isDone === true || this.replayCancelled(action.id!)) return;
          this.backstopsFired += 1;
          this.replay.fireTimer(action.id!, fireAt);
          void this.drive();
        }, fireAt.getTime() - now);
        return false;
      }
      default:
        return false;
    }
  }

  /** A timer the orchestration stopped waiting for (it moved on: a later action exists). */
  private replayCancelled(timerId: number): boolean {
    return (this.last?.actions ?? []).some((a) => a.id !== undefined && a.id > timerId);
  }
}
