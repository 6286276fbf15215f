import { describe, expect, it } from 'vitest';
import { StoredRecordError, type StoredRecordOwner } from '../../ports/stored-record-error.js';
import { GatewayError } from '../errors/gateway-error.js';
import { ALICE, MALLORY, createJobsHarness, submission } from './test-support/jobs-harness.js';

/** A harness whose job store reads every record as corrupt (what the Table adapter throws), naming `owner`. */
async function corruptJob(owner: StoredRecordOwner | undefined) {
  const h = createJobsHarness();
  const job = await h.service.submit(submission());
  h.jobs.get = async () => {
    throw new StoredRecordError({ store: 'jobs', location: 'GatewayJobs', key: job.id, problem: 'status', owner });
  };
  const codeOf = (error: unknown): string => (error instanceof GatewayError ? error.code : String(error));
  const status = (requester: Parameters<typeof h.service.status>[1]) =>
    h.service.status(job.id, requester).then(() => 'ok', codeOf);
  return { h, job, status };
}

describe('a corrupt job record in the jobs engine', () => {
  it('answers its owner and admins GW_ERR_JOB_RECORD_UNREADABLE, anyone else GW_ERR_JOB_NOT_FOUND', async () => {
    const { h, job, status } = await corruptJob(ALICE);
    expect(await status(ALICE)).toBe('GW_ERR_JOB_RECORD_UNREADABLE');
    expect(await status({ adminId: 'ops' })).toBe('GW_ERR_JOB_RECORD_UNREADABLE');
    expect(await status(MALLORY)).toBe('GW_ERR_JOB_NOT_FOUND');
    expect(await status({ ...ALICE, appId: 'other-app' })).toBe('GW_ERR_JOB_NOT_FOUND');
    await expect(h.service.cancel(job.id, ALICE)).rejects.toMatchObject({ code: 'GW_ERR_JOB_RECORD_UNREADABLE' });
  });

  it('answers callers 404 when the record names no readable owner', async () => {
    const { status } = await corruptJob(undefined);
    expect(await status(ALICE)).toBe('GW_ERR_JOB_NOT_FOUND');
    expect(await status({ adminId: 'ops' })).toBe('GW_ERR_JOB_RECORD_UNREADABLE');
  });

  it('dead-letters its queue message at once instead of running or retrying it', async () => {
    const { h, job } = await corruptJob(ALICE);
    const settlement = await h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    expect(settlement).toEqual({ action: 'dead-letter', reason: 'JOB_RECORD_UNREADABLE' });
    expect(h.calls).toHaveLength(0);
  });
});
