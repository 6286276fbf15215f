import { describe, expect, it } from 'vitest';
import { createBackgroundWrites } from '../../shared/core/resilience/background-writes.js';
import { DurableLink, type DurableClientPart } from './durable-link.js';
import { JOB_CANCELLED_EVENT, JOB_FINISHED_EVENT } from './names.js';

/** A durable client whose `raiseEvent` fails the first `failures` times. */
function flakyClient(failures: number): { client: DurableClientPart; raised: string[] } {
  const raised: string[] = [];
  let left = failures;
  const client = {
    raiseEvent: async (instanceId: string, eventName: string) => {
      raised.push(`${instanceId}:${eventName}`);
      if (left-- > 0) throw new Error('task hub unreachable');
    },
  } as unknown as DurableClientPart;
  return { client, raised };
}

describe('DurableLink job events', () => {
  const link = (client: DurableClientPart, lines: string[]) => {
    const durable = new DurableLink();
    durable.useClient(client);
    durable.reportWritesTo(createBackgroundWrites({ log: (l) => void lines.push(l), wait: async () => undefined }));
    return durable;
  };

  it('retries a JobFinished event that fails once, and reports nothing', async () => {
    const { client, raised } = flakyClient(1);
    const lines: string[] = [];
    await link(client, lines).jobFinished('job-1', 'succeeded');
    expect(raised).toEqual([`job-1:${JOB_FINISHED_EVENT}`, `job-1:${JOB_FINISHED_EVENT}`]);
    expect(lines).toEqual([]);
  });

  it('counts and logs a JobCancelled event still failing after its retries, without throwing', async () => {
    const { client, raised } = flakyClient(10);
    const lines: string[] = [];
    await link(client, lines).jobCancelled('job-2');
    expect(raised).toHaveLength(3);
    expect(raised[0]).toBe(`job-2:${JOB_CANCELLED_EVENT}`);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        kind: 'background-write-failed',
        write: 'job-cancelled-event',
        message: 'task hub unreachable',
        jobId: 'job-2',
        attempts: '3',
        count: 1,
      },
    ]);
  });
});
