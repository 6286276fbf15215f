import { describe, expect, it } from 'vitest';
import { JOB_STATUSES, type JobStatus } from '../../ports/job-store.js';
import { canTransition, isFinished, sourcesOf } from './job-state-machine.js';

const allowed: ReadonlyArray<readonly [JobStatus, JobStatus]> = [
  ['queued', 'running'],
  ['queued', 'cancelled'],
  ['queued', 'failed'],
  ['queued', 'expired'],
  ['running', 'running'],
  ['running', 'queued'],
  ['running', 'succeeded'],
  ['running', 'failed'],
  ['running', 'cancelled'],
  ['running', 'expired'],
  ['succeeded', 'expired'],
  ['failed', 'expired'],
  ['cancelled', 'expired'],
];

describe('job state machine', () => {
  const pairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const));
  it.each(pairs)('%s → %s is allowed exactly when listed', (from, to) => {
    const expected = allowed.some(([f, t]) => f === from && t === to);
    expect(canTransition(from, to)).toBe(expected);
  });

  it('names the sources of each target state', () => {
    expect(sourcesOf('running')).toEqual(['queued', 'running']);
    expect(sourcesOf('cancelled')).toEqual(['queued', 'running']);
    expect(sourcesOf('succeeded')).toEqual(['running']);
    expect(sourcesOf('expired')).toEqual(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
    expect(sourcesOf('queued')).toEqual(['running']);
  });

  it('leaves an expired job nowhere to go and counts only terminal states as finished', () => {
    expect(sourcesOf('expired')).not.toContain('expired');
    expect(JOB_STATUSES.filter(isFinished)).toEqual(['succeeded', 'failed', 'expired', 'cancelled']);
  });
});
