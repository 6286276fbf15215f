import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../ports/job-store.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayAdmission } from '../governance/admission.js';
import { admitCaller, admitJob } from './admit.js';
import { admissionOf, callOf, gatewayRequest } from './test-support/pipeline-fixtures.js';

function admissionAnswering(answer: () => ReturnType<GatewayAdmission['admit']>) {
  const seen: Parameters<GatewayAdmission['admit']>[0][] = [];
  const admission = {
    admit: (input: Parameters<GatewayAdmission['admit']>[0]) => {
      seen.push(input);
      return answer();
    },
  } as GatewayAdmission;
  return { admission, seen };
}

describe('admit', () => {
  const clock = new FakeClock();

  it('admits a live caller by its credential and writes who called into the summary', async () => {
    const admitted = admissionOf({ userId: 'bob', profileId: 'batch' }, { priority: 3 });
    const { admission, seen } = admissionAnswering(async () => admitted);
    const call = callOf(
      gatewayRequest({ path: '/v1/chat/completions?api-version=1', headers: { 'api-key': 'k' } }),
      clock,
    );

    const context = await admitCaller(admission, call);

    expect(seen[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions?api-version=1' });
    expect(seen[0]!.headers.get('api-key')).toBe('k');
    expect(context).toEqual({
      caller: admitted.caller,
      priority: 3,
      admission: admitted,
      asyncJobId: undefined,
      capacityHeld: false,
    });
    expect(call.summary.caller).toBe(admitted.caller);
    expect(call.summary.priority).toBe(3);
  });

  it('lets a refused caller through to the error answer with no caller recorded', async () => {
    const { admission } = admissionAnswering(() => Promise.reject(new GatewayError('GW_ERR_AUTH_MISSING')));
    const call = callOf(gatewayRequest(), clock);
    await expect(admitCaller(admission, call)).rejects.toMatchObject({ code: 'GW_ERR_AUTH_MISSING' });
    expect(call.summary.caller).toBeUndefined();
  });

  it("runs a job as its stored owner, re-admitted under today's governance, with no credential", async () => {
    const job = { id: 'job_42', owner: { userId: 'carol', appId: 'app-1' }, priority: 4 } as unknown as JobRecord;
    const readmitted = admissionOf({ userId: 'carol', appId: 'app-1', profileId: 'batch' }, { priority: 4 });
    const seen: unknown[] = [];
    const call = callOf(gatewayRequest(), clock);

    const context = await admitJob(
      { admitOwner: (owner, priority) => (seen.push(owner, priority), readmitted) },
      job,
      { capacityHeld: true },
      call,
    );

    expect(seen).toEqual([job.owner, 4]);
    expect(context).toEqual({
      caller: readmitted.caller,
      priority: 4,
      admission: readmitted,
      asyncJobId: 'job_42',
      capacityHeld: true,
      recheckStanding: expect.any(Function),
    });
    expect(call.summary).toMatchObject({ caller: readmitted.caller, priority: 4, asyncJobId: 'job_42' });
    // Once the job holds capacity its owner is checked again.
    context.recheckStanding!();
    expect(seen).toEqual([job.owner, 4, job.owner, 4]);
  });

  it('refuses a job whose owner no longer stands, with the owner recorded', async () => {
    const job = { id: 'job_43', owner: { userId: 'dave', profileId: 'batch' }, priority: 2 } as unknown as JobRecord;
    const call = callOf(gatewayRequest(), clock);
    const suspended = new GatewayError('GW_ERR_AUTH_SUSPENDED');
    const refuse = (): never => {
      throw suspended;
    };

    await expect(admitJob({ admitOwner: refuse }, job, { capacityHeld: false }, call)).rejects.toBe(suspended);
    expect(call.summary).toMatchObject({ caller: { userId: 'dave', profileId: 'batch' }, asyncJobId: 'job_43' });
  });
});
