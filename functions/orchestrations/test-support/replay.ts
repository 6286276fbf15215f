import * as df from 'durable-functions';

/** An action the orchestrator scheduled, with the task id the replay engine gave it (`undefined` for event waits). */
export interface NumberedAction {
  readonly id: number | undefined;
  readonly actionType: number;
  readonly [key: string]: unknown;
}

/** What one episode returned. */
export interface Episode {
  readonly isDone: boolean;
  readonly output: unknown;
  readonly customStatus: unknown;
  /** Every action of the orchestration so far (the engine replays and lists them all), ids in schedule order. */
  readonly actions: readonly NumberedAction[];
}

export const ActionType = {
  CallActivity: 0,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  SignalEntity: 9,
} as const;

/**
 * Drives an orchestrator through durable-functions' own replay engine (the handler `df.app.orchestration`
 * registered) on a synthetic history, one episode at a time, in the host's wire format: each `run` sends
 * the whole history (earlier episodes + `OrchestratorStarted` at `at` + the events queued since), as the
 * Durable Task extension does. Task ids follow the engine's rule: one per scheduled timer, activity,
 * entity call or entity signal, in schedule order.
 */
export class OrchestrationReplay {
  private readonly history: Record<string, unknown>[] = [];
  private queued: Record<string, unknown>[] = [];

  constructor(
    private readonly handler: (...args: unknown[]) => unknown,
    private readonly name: string,
    private readonly input: unknown,
    private readonly instanceId = 'job-1',
  ) {}

  /** Runs one episode at `at`. */
  async run(at: Date): Promise<Episode> {
    const episode = [{ EventType: 12, EventId: -1, IsPlayed: false, Timestamp: at }];
    if (this.history.length === 0)
      episode.push({
        EventType: 0,
        EventId: -1,
        IsPlayed: false,
        Timestamp: at,
        Name: this.name,
        Input: JSON.stringify(this.input),
      } as never);
    this.history.push(...episode, ...this.queued);
    this.queued = [];
    return this.replay();
  }

  /** Replays the whole history as it stands, without adding an episode (determinism checks). */
  async replay(): Promise<Episode> {
    const trigger = {
      history: this.history.map((e) => ({ ...e })),
      input: this.input,
      instanceId: this.instanceId,
      isReplaying: false,
      parentInstanceId: '',
      upperSchemaVersion: 3,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '6.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    };
    const state = (await this.handler(
      trigger,
      new df.DummyOrchestrationContext('gatewayRequest', 'inv', () => undefined),
    )) as { isDone: boolean; output: unknown; customStatus?: unknown; actions: unknown[][] };
    let next = 0;
    const numbered: NumberedAction[] = [];
    const walk = (action: { actionType: number; compoundActions?: unknown[] }): void => {
      if (action.compoundActions !== undefined) {
        for (const child of action.compoundActions) walk(child as never);
        return;
      }
      numbered.push({
        ...action,
        id: action.actionType === ActionType.WaitForExternalEvent ? undefined : next++,
      } as NumberedAction);
    };
    for (const group of state.actions) for (const action of group) walk(action as never);
    return { isDone: state.isDone, output: state.output, customStatus: state.customStatus, actions: numbered };
  }

  answerEntity(id: number, result: unknown): this {
    const requestId = `entity-request-${id}`;
    this.queued.push({
      EventType: 14,
      EventId: id,
      IsPlayed: false,
      Timestamp: new Date(0),
      Input: JSON.stringify({ id: requestId }),
    });
    this.queued.push({
      EventType: 15,
      EventId: -1,
      IsPlayed: false,
      Timestamp: new Date(0),
      Name: requestId,
      Input: JSON.stringify({ result: JSON.stringify(result) }),
    });
    return this;
  }

  completeActivity(id: number, result: unknown): this {
    this.queued.push({
      EventType: 5,
      EventId: -1,
      IsPlayed: false,
      Timestamp: new Date(0),
      TaskScheduledId: id,
      Result: JSON.stringify(result),
    });
    return this;
  }

  failActivity(id: number, reason: string): this {
    this.queued.push({
      EventType: 6,
      EventId: -1,
      IsPlayed: false,
      Timestamp: new Date(0),
      TaskScheduledId: id,
      Reason: reason,
      Details: reason,
    });
    return this;
  }

  fireTimer(id: number, fireAt: Date): this {
    this.queued.push({ EventType: 11, EventId: -1, IsPlayed: false, Timestamp: fireAt, TimerId: id, FireAt: fireAt });
    return this;
  }

  raise(name: string, value: unknown): this {
    this.queued.push({
      EventType: 15,
      EventId: -1,
      IsPlayed: false,
      Timestamp: new Date(0),
      Name: name,
      Input: JSON.stringify(value),
    });
    return this;
  }
}

/** The last action of a type (throws if none). */
export function last(episode: Episode, actionType: number): NumberedAction {
  const found = episode.actions.filter((a) => a.actionType === actionType).at(-1);
  if (found === undefined) throw new Error(`no action of type ${actionType} in ${JSON.stringify(episode.actions)}`);
  return found;
}
