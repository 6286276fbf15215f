import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load-config.js';
import { FakeClock } from '../test-support/fake-clock.js';
import type { JobService, JobSubmission } from '../jobs/job-service.js';
import { route } from './route.js';
import { runsAsJob, submitJob, upgradeAfterMs } from './schedule-job.js';
import {
  admissionOf,
  callOf,
  gatewayRequest,
  jobContext,
  liveContext,
  snapshotOf,
} from './test-support/pipeline-fixtures.js';

const clock = new FakeClock();
function snapshot(asyncEnabled = true) {
  const result = validateConfig({
    backends: [{ id: 'a', url: 'http://a.test', kind: 'openai' }],
    pools: [{ id: 'p', backends: ['a'] }],
    routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
    async: { enabled: asyncEnabled, syncWaitMs: 4_000, retentionMs: 3_600_000 },
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return snapshotOf(result.config);
}
const submissions: JobSubmission[] = [];
const jobs = {
  submitAndWait: async (submission: JobSubmission) => {
    submissions.push(submission);
    return { status: 202, headers: new Headers(), body: null };
  },
} as unknown as JobService;
const allowed = liveContext(admissionOf({}, { asyncAllowed: true, asyncResultRetentionMs: 7_200_000 }));
const upgrades = liveContext(admissionOf({}, { asyncAllowed: true, asyncUpgradeWhenQueued: true }));
const optIn = { 'content-type': 'application/json', 'x-gateway-async': 'true' };

describe('runsAsJob', () => {
  it('runs a call as a job when its caller opted in and may', () => {
    expect(runsAsJob(jobs, snapshot(), callOf(gatewayRequest({ headers: optIn }), clock), allowed)).toBe(true);
    expect(
      runsAsJob(jobs, snapshot(), callOf(gatewayRequest({ headers: { s7pasyncmode: 'True' } }), clock), allowed),
    ).toBe(true);
    expect(runsAsJob(jobs, snapshot(), callOf(gatewayRequest(), clock), allowed)).toBe(false);
    // A job's own execution never becomes another job.
    expect(runsAsJob(jobs, snapshot(), callOf(gatewayRequest({ headers: optIn }), clock), jobContext())).toBe(false);
  });

  it('answers 403 when async mode is off or the profile does not allow it', () => {
    const call = callOf(gatewayRequest({ headers: optIn }), clock);
    expect(() => runsAsJob(jobs, snapshot(false), call, allowed)).toThrow(
      expect.objectContaining({ code: 'GW_ERR_POLICY_ASYNC_NOT_ALLOWED' }),
    );
    expect(() => runsAsJob(jobs, snapshot(), call, liveContext())).toThrow(
      expect.objectContaining({ code: 'GW_ERR_POLICY_ASYNC_NOT_ALLOWED' }),
    );
  });
});

describe('upgradeAfterMs', () => {
  it('upgrades a queued non-streaming call at the sync wait only where the profile says so, and nothing else', () => {
    expect(upgradeAfterMs(jobs, snapshot(), upgrades, { model: 'm' })).toBe(4_000);
    // Allowed async, but no explicit upgrade: the caller did not ask, so it keeps its synchronous answer.
    expect(upgradeAfterMs(jobs, snapshot(), allowed, { model: 'm' })).toBeUndefined();
    expect(upgradeAfterMs(jobs, snapshot(), upgrades, { model: 'm', stream: true })).toBeUndefined();
    expect(upgradeAfterMs(jobs, snapshot(), liveContext(), { model: 'm' })).toBeUndefined();
    expect(upgradeAfterMs(jobs, snapshot(false), upgrades, { model: 'm' })).toBeUndefined();
    expect(upgradeAfterMs(undefined, snapshot(), upgrades, { model: 'm' })).toBeUndefined();
    expect(upgradeAfterMs(jobs, snapshot(), jobContext(), { model: 'm' })).toBeUndefined();
  });
});

describe('submitJob', () => {
  it("stores the call as received, as the admitted caller, kept for the profile's retention (capped)", async () => {
    const s = snapshot();
    const body = JSON.stringify({ model: 'gpt-4o', messages: [] });
    const call = callOf(gatewayRequest({ path: '/v1/chat/completions?x=1', body, headers: optIn }), clock);
    const routed = await route(
      { affinity: { get: async () => undefined }, admission: { authorizeTarget: () => {} } },
      s,
      call,
      allowed,
    );
    await submitJob(jobs, s, call, allowed, routed, 0);
    const submission = submissions.at(-1)!;
    expect(submission).toMatchObject({
      requestId: call.requestId,
      caller: allowed.caller,
      routeId: 'r',
      model: 'gpt-4o',
      priority: 2,
      retentionMs: 3_600_000,
      syncWaitMs: 0,
      request: { method: 'POST', path: '/v1/chat/completions?x=1', body: routed.body },
    });
    expect(submission.request.headers.get('content-type')).toBe('application/json');
  });
});
