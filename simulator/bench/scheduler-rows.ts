import { FakeClock } from '../../shared/core/test-support/fake-clock.js';
import { PriorityScheduler } from '../../shared/core/scheduling/priority-scheduler.js';

/** One row of the scheduler benchmark: cost per operation with `queued` calls waiting. */
export interface SchedulerRow {
  readonly queued: number;
  /** CPU µs per operation (one enqueue, one release and the grant it makes), median of the rounds. */
  readonly cpuUsPerOp: number;
  /** The scheduler's own work count per operation (heap comparisons and queue entries visited). */
  readonly stepsPerOp: number;
}

const CAPACITY = 100;
const USERS = 1_000;
const OPERATIONS = 20_000;
const ROUNDS = 3;

/**
 * Grant and release cost against the queue's length, in process (no HTTP): a pool of 100 slots, `queued`
 * calls waiting on three levels from 1,000 users plus one user who sent half the queue (so fair share has
 * to pass them), aging and fair share at their defaults. Each operation enqueues one call (the queue stays
 * at `queued`) and releases one lease, which grants the next call. CPU time comes from `process.cpuUsage`,
 * so other processes on the machine disturb it less than wall-clock time would.
 */
export function schedulerRow(queued: number): SchedulerRow {
  const cpu: number[] = [];
  const steps: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const result = oneRound(queued);
    cpu.push(result.cpuUsPerOp);
    steps.push(result.stepsPerOp);
  }
  cpu.sort((a, b) => a - b);
  return { queued, cpuUsPerOp: cpu[Math.floor(ROUNDS / 2)] ?? NaN, stepsPerOp: Math.max(...steps) };
}

function oneRound(queued: number): { cpuUsPerOp: number; stepsPerOp: number } {
  const clock = new FakeClock();
  const scheduler = new PriorityScheduler({ clock, options: { maxQueueDepth: queued + 1 } });
  scheduler.setCapacity('pool', [{ groupId: 'ptu', capacity: CAPACITY }]);
  const deadlineMs = clock.now() + 365 * 24 * 3_600_000;
  const live: string[] = [];
  let next = 0;
  const enqueue = (): void => {
    const i = next++;
    const result = scheduler.enqueue({
      requestId: `r${i}`,
      poolId: 'pool',
      priority: 1 + (i % 3),
      userId: i % 2 === 0 ? 'flooder' : `user${i % USERS}`,
      deadlineMs,
    });
    if (result.kind === 'granted') live.push(result.lease.leaseId);
    else if (result.kind === 'rejected') throw new Error(`scheduler bench: ${result.code} at ${i}`);
  };
  for (let i = 0; i < queued + CAPACITY; i += 1) enqueue();
  let head = 0;
  const stepsBefore = scheduler.workSteps();
  const cpuBefore = process.cpuUsage();
  for (let op = 0; op < OPERATIONS; op += 1) {
    clock.advance(1);
    enqueue();
    const { grants } = scheduler.release(live[head] as string);
    head += 1;
    for (const lease of grants) live.push(lease.leaseId);
  }
  const cpu = process.cpuUsage(cpuBefore);
  if (scheduler.stats().totals.priorityInversions !== 0) throw new Error('scheduler bench: a priority inversion');
  return {
    cpuUsPerOp: (cpu.user + cpu.system) / OPERATIONS,
    stepsPerOp: (scheduler.workSteps() - stepsBefore) / OPERATIONS,
  };
}
