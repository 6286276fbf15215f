import { describe, expect, it } from 'vitest';
import { jobPayloadKey } from './job-ids.js';
import { createInProcessJobRunner } from './in-process-job-runner.js';
import { createJobsApi } from './jobs-api.js';
import { ALICE, MALLORY, createJobsHarness, jsonResponse, readText, submission } from './test-support/jobs-harness.js';
import { settle } from './test-support/manual-timers.js';
import type { GatewayRequest } from '../http/gateway-request.js';
import { sweepExpiredJobs } from './sweep-expired-jobs.js';

function get(path: string, method = 'GET'): GatewayRequest {
  return {
    method,
    url: `http://gw.test${path}`,
    headers: new Headers(),
    body: null,
    signal: new AbortController().signal,
  };
}

function startRunner(h: ReturnType<typeof createJobsHarness>) {
  const runner = createInProcessJobRunner({
    queue: h.queue,
    worker: h.worker,
    signals: h.signals,
    setTimer: h.timers.setTimer,
    concurrency: 2,
    visibilityTimeoutMs: 60_000,
    pollIntervalMs: 1_000,
  });
  runner.start();
  return runner;
}

describe('async jobs end to end (memory adapters, in-process runner)', () => {
  it('answers inline with the real response when the job finishes within the sync wait', async () => {
    const h = createJobsHarness();
    const runner = startRunner(h);
    const answer = h.service.submitAndWait(submission({ body: '{"prompt":"hi"}' }));
    const call = await h.nextCall();
    expect(call.body).toBe('{"prompt":"hi"}');
    expect(call.request.url).toBe('http://gateway.jobs/v1/chat/completions?x=1');
    expect(call.request.headers.get('x-trace')).toBe('t1');
    expect(call.request.headers.has('x-gateway-async')).toBe(false);
    call.resolve(jsonResponse(200, { id: 'chatcmpl-1', choices: [] }, { 'x-ms-region': 'East US' }));
    const response = await answer;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ms-region')).toBe('East US');
    expect(response.headers.get('x-gateway-job-id')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.parse(await readText(response.body))).toEqual({ id: 'chatcmpl-1', choices: [] });
    await runner.stop();
    expect(h.queue.depth).toBe(0);
    expect(h.signals.pending).toEqual({ waiters: 0, runs: 0 });
  });

  it('answers 202 with Location at the sync-wait mark, then serves the result to polling', async () => {
    const h = createJobsHarness();
    const api = createJobsApi(h.service);
    const runner = startRunner(h);
    const answer = h.service.submitAndWait(submission());
    const call = await h.nextCall();
    await h.timers.advance(9_999);
    let settled = false;
    void answer.then(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
    await h.timers.advance(1);
    const accepted = await answer;
    expect(accepted.status).toBe(202);
    const body = JSON.parse(await readText(accepted.body)) as {
      id: string;
      status: string;
      created_at: string;
      location: string;
    };
    expect(body).toMatchObject({ status: 'running', created_at: new Date(h.clock.now() - 10_000).toISOString() });
    expect(accepted.headers.get('location')).toBe(`/jobs/${body.id}`);
    expect(body.location).toBe(`/jobs/${body.id}`);
    expect(accepted.headers.get('retry-after')).toBe('5');

    const polled = await api.handle(get(`/jobs/${body.id}`), { requester: ALICE, requestId: 'poll-1' });
    expect(polled?.status).toBe(200);
    expect(JSON.parse(await readText(polled!.body))).toMatchObject({
      id: body.id,
      status: 'running',
      attempts: 1,
      result: null,
    });
    const early = await api.handle(get(`/jobs/${body.id}/result`), { requester: ALICE, requestId: 'poll-2' });
    expect(early?.status).toBe(409);
    expect(early?.headers.get('x-gateway-error-code')).toBe('GW_ERR_JOB_NOT_READY');
    expect(early?.headers.get('retry-after')).toBe('5');

    const finished = h.signals.waitForFinish(body.id).promise;
    call.resolve({
      ...jsonResponse(200, { answer: 42 }),
      usage: () => ({
        promptTokens: 3,
        completionTokens: 2,
        totalTokens: 5,
        cachedInputTokens: 0,
        cacheCreationTokens: 0,
        reasoningTokens: 0,
        servedModel: 'gpt-4o',
        source: 'reported',
        promptSource: 'reported',
        completionSource: 'reported',
      }),
    });
    await finished;
    const done = JSON.parse(
      await readText((await api.handle(get(`/jobs/${body.id}`), { requester: ALICE, requestId: 'poll-3' }))!.body),
    );
    expect(done).toMatchObject({
      status: 'succeeded',
      result: { status: 200, location: `/jobs/${body.id}/result` },
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
    const result = await api.handle(get(`/jobs/${body.id}/result`), { requester: ALICE, requestId: 'poll-4' });
    expect(result?.status).toBe(200);
    expect(result?.headers.get('x-gateway-request-id')).toBe('poll-4');
    expect(JSON.parse(await readText(result!.body))).toEqual({ answer: 42 });
    await runner.stop();
  });

  it('answers 202 at once with a zero sync wait', async () => {
    const h = createJobsHarness();
    const answer = await h.service.submitAndWait(submission({ syncWaitMs: 0 }));
    expect(answer.status).toBe(202);
    expect(JSON.parse(await readText(answer.body))).toMatchObject({ status: 'queued', attempts: 0 });
    expect(h.queue.depth).toBe(1);
  });

  it('answers the error envelope inline when the job fails within the sync wait', async () => {
    const h = createJobsHarness();
    const runner = startRunner(h);
    const answer = h.service.submitAndWait(submission());
    const call = await h.nextCall();
    const { GatewayError } = await import('../errors/gateway-error.js');
    call.reject(new GatewayError('GW_ERR_REQUEST_INVALID_JSON'));
    await expect(answer).rejects.toMatchObject({ code: 'GW_ERR_REQUEST_INVALID_JSON' });
    await runner.stop();
  });

  it('requeues in-flight jobs when the runner stops', async () => {
    const h = createJobsHarness();
    const runner = startRunner(h);
    const job = await h.service.submit(submission());
    await h.nextCall();
    await runner.stop();
    expect((await h.jobs.get(job.id))?.status).toBe('queued');
    expect((await h.queue.receive(1, 1_000))[0]?.message.jobId).toBe(job.id);
  });
});

describe('job worker deliveries', () => {
  it('reruns a job whose worker died once its lease runs out, and completes it once', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    const crashed = h.otherWorker(); // its timers never advance: no heartbeat, as if the process died
    const [first] = await h.queue.receive(1, 60_000);
    const crashedRun = crashed.handleDelivery({ jobId: job.id, deliveryCount: first!.deliveryCount });
    const firstCall = await h.nextCall();
    expect((await h.jobs.get(job.id))?.status).toBe('running');

    await h.timers.advance(30_000);
    expect(await h.queue.receive(1, 60_000)).toEqual([]);
    await h.timers.advance(31_000);
    const [second] = await h.queue.receive(1, 60_000);
    expect(second?.deliveryCount).toBe(2);
    const rerun = h.worker.handleDelivery({ jobId: job.id, deliveryCount: second!.deliveryCount });
    const secondCall = await h.nextCall();
    secondCall.resolve(jsonResponse(200, { from: 'second' }));
    expect(await rerun).toEqual({ action: 'complete', reason: 'succeeded' });

    firstCall.resolve(jsonResponse(200, { from: 'first (zombie)' }));
    expect(await crashedRun).toMatchObject({ action: 'complete', reason: 'superseded: job succeeded' });
    expect(h.calls).toHaveLength(2);
    const final = await h.jobs.get(job.id);
    expect(final).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await readText((await h.service.result(job.id, ALICE, 'r')).body)).toBe('{"from":"second"}');
    expect(h.payloads.keys()).toEqual([jobPayloadKey(ALICE, job.id, 'response', 2)]);
  });

  it('completes a duplicate delivery of a finished job without running it again', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    (await h.nextCall()).resolve(jsonResponse(200, {}));
    await run;
    expect(await h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 })).toEqual({
      action: 'complete',
      reason: 'duplicate delivery: job already succeeded',
    });
    expect(h.calls).toHaveLength(1);
  });

  it('does not run a job another worker holds under a live lease, and looks again when the lease ends', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    void h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    await h.nextCall();
    await h.timers.advance(10 * 60_000); // ten minutes: the heartbeat keeps renewing the lease
    const running = await h.jobs.get(job.id);
    expect(running?.runningUntilMs).toBeGreaterThan(h.clock.now());
    const settlement = await h.otherWorker().handleDelivery({ jobId: job.id, deliveryCount: 2 });
    expect(settlement).toMatchObject({ action: 'abandon', retryAfterMs: running!.runningUntilMs! - h.clock.now() });
    expect(h.calls).toHaveLength(1);
  });

  it('lets only one of two simultaneous deliveries of a queued job run it', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    const a = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    const b = h.otherWorker().handleDelivery({ jobId: job.id, deliveryCount: 1 });
    const call = await h.nextCall();
    await settle();
    expect(await b).toMatchObject({ action: 'complete', reason: 'duplicate delivery: job running' });
    call.resolve(jsonResponse(200, {}));
    expect(await a).toMatchObject({ action: 'complete', reason: 'succeeded' });
    expect(h.calls).toHaveLength(1);
  });

  it('retries failed attempts with backoff and, after maxDeliveries, fails the job and dead-letters', async () => {
    const h = createJobsHarness({ maxDeliveries: 3 });
    const job = await h.service.submit(submission());
    const settlements: string[] = [];
    for (let round = 0; round < 5; round++) {
      const [delivery] = await h.queue.receive(1, 60_000);
      if (delivery === undefined) break;
      const pending = h.worker.handleDelivery({ jobId: job.id, deliveryCount: delivery.deliveryCount });
      (await h.nextCall()).reject(new Error('socket hang up at 10.0.0.7'));
      const settlement = await pending;
      settlements.push(`${settlement.action}${settlement.action === 'abandon' ? `:${settlement.retryAfterMs}` : ''}`);
      if (settlement.action === 'abandon') {
        expect((await h.jobs.get(job.id))?.status).toBe('queued');
        await h.queue.abandon(delivery.lockToken, { retryAfterMs: settlement.retryAfterMs });
        await h.timers.advance(settlement.retryAfterMs);
      } else if (settlement.action === 'dead-letter') await h.queue.deadLetter(delivery.lockToken, settlement.reason);
    }
    expect(settlements).toEqual(['abandon:2000', 'abandon:4000', 'dead-letter']);
    expect(h.calls).toHaveLength(3);
    const failed = await h.jobs.get(job.id);
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 3,
      lastError: { code: 'GW_ERR_INTERNAL', message: 'Gave up after 3 deliveries: An internal error occurred.' },
    });
    expect(JSON.stringify(failed)).not.toContain('10.0.0.7');
    expect(await h.queue.peekDeadLetters(5)).toMatchObject([
      { message: { jobId: job.id }, reason: 'JOB_DELIVERIES_EXHAUSTED: GW_ERR_INTERNAL' },
    ]);
    await expect(h.service.result(job.id, ALICE, 'r')).rejects.toMatchObject({ code: 'GW_ERR_INTERNAL', status: 500 });
    expect(h.payloads.keys()).toEqual([]);
  });

  it('retries a gateway-produced retryable error response, honouring its retry-after', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    (await h.nextCall()).resolve(
      jsonResponse(429, { error: {} }, { 'x-gateway-error-code': 'GW_ERR_BACKEND_THROTTLED', 'retry-after': '7' }),
    );
    expect(await run).toMatchObject({ action: 'abandon', retryAfterMs: 7_000 });
    expect(await h.jobs.get(job.id)).toMatchObject({
      status: 'queued',
      lastError: { code: 'GW_ERR_BACKEND_THROTTLED' },
    });
  });

  it('stores a backend error response as the succeeded job’s result', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    (await h.nextCall()).resolve(jsonResponse(400, { error: { message: 'bad prompt' } }));
    expect(await run).toMatchObject({ action: 'complete' });
    const result = await h.service.result(job.id, ALICE, 'r');
    expect(result.status).toBe(400);
    expect(await readText(result.body)).toContain('bad prompt');
  });

  it('fails the job at once on a non-retryable gateway error', async () => {
    const h = createJobsHarness();
    const { GatewayError } = await import('../errors/gateway-error.js');
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    (await h.nextCall()).reject(new GatewayError('GW_ERR_POLICY_MODEL_NOT_ALLOWED'));
    expect(await run).toEqual({ action: 'complete', reason: 'failed: GW_ERR_POLICY_MODEL_NOT_ALLOWED' });
    expect((await h.jobs.get(job.id))?.status).toBe('failed');
  });

  it('does not store a response whose stream broke half-way; the attempt is retried', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    (await h.nextCall()).resolve({
      response: {
        status: 200,
        headers: new Headers({ 'content-type': 'text/event-stream' }),
        body: (async function* () {
          yield new TextEncoder().encode('data: {"partial":true}\n\n');
          throw new Error('upstream cut');
        })(),
      },
    });
    expect(await run).toMatchObject({ action: 'abandon' });
    expect(await h.payloads.get(jobPayloadKey(ALICE, job.id, 'response', 1))).toBeUndefined();
    expect((await h.jobs.get(job.id))?.status).toBe('queued');
  });

  it('fails a job whose run deadline passes, aborting the call', async () => {
    const h = createJobsHarness({ service: { runDeadlineMs: 120_000 } });
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    const call = await h.nextCall();
    await h.timers.advance(120_000);
    expect(call.request.signal.aborted).toBe(true);
    expect(await run).toEqual({ action: 'complete', reason: 'run deadline passed' });
    expect(await h.jobs.get(job.id)).toMatchObject({ status: 'failed', lastError: { code: 'GW_ERR_BACKEND_TIMEOUT' } });
    const late = await h.service.submit(submission());
    await h.timers.advance(120_000);
    expect(await h.worker.handleDelivery({ jobId: late.id, deliveryCount: 1 })).toEqual({
      action: 'complete',
      reason: 'run deadline passed',
    });
    expect(h.calls).toHaveLength(1);
  });

  it('streams a large result into the payload store chunk by chunk and back out', async () => {
    const h = createJobsHarness();
    const chunkBytes = 64 * 1024;
    const chunkCount = 64; // 4 MiB
    const putChunks: number[] = [];
    const put = h.payloads.put.bind(h.payloads);
    h.payloads.put = async (key, body, meta, options) =>
      put(
        key,
        (async function* () {
          for await (const chunk of body) {
            if (key.includes('/response/')) putChunks.push(chunk.byteLength);
            yield chunk;
          }
        })(),
        meta,
        options,
      );
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    let produced = 0;
    (await h.nextCall()).resolve({
      response: {
        status: 200,
        headers: new Headers({ 'content-type': 'application/octet-stream' }),
        body: (async function* () {
          for (; produced < chunkCount; produced++) yield new Uint8Array(chunkBytes).fill(produced % 256);
        })(),
      },
    });
    await run;
    expect(putChunks).toHaveLength(chunkCount);
    expect(new Set(putChunks)).toEqual(new Set([chunkBytes]));
    const result = await h.service.result(job.id, ALICE, 'r');
    expect(result.headers.get('content-length')).toBe(String(chunkBytes * chunkCount));
    let total = 0;
    let reads = 0;
    for await (const chunk of result.body!) {
      expect(chunk[0]).toBe(reads % 256);
      total += chunk.byteLength;
      reads++;
    }
    expect(total).toBe(chunkBytes * chunkCount);
    expect(reads).toBe(chunkCount);
  });

  it('dead-letters an unreadable message without touching any job', async () => {
    const h = createJobsHarness();
    expect(await h.worker.handleMessage('{"v":9}', 1)).toEqual({
      action: 'dead-letter',
      reason: 'JOB_MESSAGE_UNREADABLE',
    });
    expect(await h.worker.handleMessage({ v: 1, jobId: 'gone', enqueuedAtMs: 1 }, 1)).toEqual({
      action: 'complete',
      reason: 'unknown job',
    });
  });
});

describe('cancellation, ownership and retention', () => {
  it('never runs a job cancelled while queued', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    expect((await h.service.cancel(job.id, ALICE)).status).toBe('cancelled');
    expect(await h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 })).toMatchObject({ action: 'complete' });
    expect(h.calls).toHaveLength(0);
    await expect(h.service.result(job.id, ALICE, 'r')).rejects.toMatchObject({
      code: 'GW_ERR_JOB_RESULT_EXPIRED',
      status: 410,
    });
  });

  it('aborts a running job when its owner cancels it through the API', async () => {
    const h = createJobsHarness();
    const api = createJobsApi(h.service);
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    const call = await h.nextCall();
    const response = await api.handle(get(`/jobs/${job.id}`, 'DELETE'), { requester: ALICE, requestId: 'c1' });
    expect(response?.status).toBe(200);
    expect(JSON.parse(await readText(response!.body))).toMatchObject({ status: 'cancelled' });
    expect(call.request.signal.aborted).toBe(true);
    expect(await run).toMatchObject({ action: 'complete', reason: 'superseded: job cancelled' });
    expect(await h.payloads.get(jobPayloadKey(ALICE, job.id, 'response', 1))).toBeUndefined();
    const again = await h.service.cancel(job.id, ALICE);
    expect(again.status).toBe('cancelled');
  });

  it('stops a worker in another instance whose job was cancelled, at its next lease renewal', async () => {
    const h = createJobsHarness();
    const job = await h.service.submit(submission());
    const run = h.otherWorker(h.timers).handleDelivery({ jobId: job.id, deliveryCount: 1 });
    const call = await h.nextCall();
    await h.service.cancel(job.id, ALICE); // no in-process registry entry for the other worker
    expect(call.request.signal.aborted).toBe(false);
    await h.timers.advance(30_000);
    expect(call.request.signal.aborted).toBe(true);
    expect(await run).toMatchObject({ action: 'complete' });
  });

  it('answers 404 to a caller who does not own the job, as for an unknown id, and lets an admin see it', async () => {
    const h = createJobsHarness();
    const api = createJobsApi(h.service);
    const job = await h.service.submit(submission());
    for (const path of [`/jobs/${job.id}`, `/jobs/${job.id}/result`]) {
      const other = await api.handle(get(path), { requester: MALLORY, requestId: 'x' });
      const unknown = await api.handle(get(path.replace(job.id, 'AAAAAAAAAAAAAAAAAAAAAA')), {
        requester: MALLORY,
        requestId: 'x',
      });
      expect(other?.status).toBe(404);
      expect(unknown?.status).toBe(404);
      expect(JSON.parse(await readText(other!.body)).error.code).toBe('GW_ERR_JOB_NOT_FOUND');
    }
    expect((await api.handle(get(`/jobs/${job.id}`, 'DELETE'), { requester: MALLORY, requestId: 'x' }))?.status).toBe(
      404,
    );
    expect(
      (await api.handle(get(`/jobs/${job.id}`), { requester: { ...ALICE, profileId: 'other' }, requestId: 'x' }))
        ?.status,
    ).toBe(404);
    expect((await h.jobs.get(job.id))?.status).toBe('queued');
    expect((await api.handle(get(`/jobs/${job.id}`), { requester: { adminId: 'ops' }, requestId: 'x' }))?.status).toBe(
      200,
    );
  });

  it('expires results after retention (410), then forgets the job (404)', async () => {
    const h = createJobsHarness({ service: { retentionMs: 3_600_000 } });
    const job = await h.service.submit(submission());
    const run = h.worker.handleDelivery({ jobId: job.id, deliveryCount: 1 });
    (await h.nextCall()).resolve(jsonResponse(200, { ok: true }));
    await run;
    expect(h.payloads.keys()).toEqual([jobPayloadKey(ALICE, job.id, 'response', 1)]);
    await h.timers.advance(3_599_999);
    expect(await sweepExpiredJobs(h)).toEqual({ expired: 0, deleted: 0 });
    await h.timers.advance(1);
    expect(await sweepExpiredJobs(h)).toEqual({ expired: 1, deleted: 0 });
    expect(h.payloads.keys()).toEqual([]);
    await expect(h.service.result(job.id, ALICE, 'r')).rejects.toMatchObject({ status: 410 });
    expect((await h.service.status(job.id, ALICE)).status).toBe('expired');
    await h.timers.advance(3_600_000);
    expect(await sweepExpiredJobs(h)).toEqual({ expired: 0, deleted: 1 });
    await expect(h.service.status(job.id, ALICE)).rejects.toMatchObject({ status: 404 });
  });

  it('sweeps in bounded batches', async () => {
    const h = createJobsHarness({ service: { retentionMs: 1_000, runDeadlineMs: 2_000, syncWaitMs: 0 } });
    for (let i = 0; i < 5; i++) await h.service.submit(submission());
    await h.timers.advance(3_000);
    expect(await sweepExpiredJobs(h, { batchSize: 2, maxBatches: 2 })).toEqual({ expired: 4, deleted: 0 });
    expect(await sweepExpiredJobs(h, { batchSize: 2, maxBatches: 2 })).toEqual({ expired: 1, deleted: 0 });
  });
});

describe('jobs API routing', () => {
  it('passes on paths that are not job paths and rejects malformed ids and methods', async () => {
    const h = createJobsHarness();
    const api = createJobsApi(h.service);
    const ctx = { requester: ALICE, requestId: 'r' };
    expect(await api.handle(get('/v1/chat/completions'), ctx)).toBeUndefined();
    expect(await api.handle(get('/jobsx/abc'), ctx)).toBeUndefined();
    expect((await api.handle(get('/jobs/not-an-id'), ctx))?.status).toBe(404);
    expect((await api.handle(get('/jobs'), ctx))?.status).toBe(404);
    const job = await h.service.submit(submission());
    expect((await api.handle(get(`/jobs/${job.id}/result/x`), ctx))?.status).toBe(404);
    const post = await api.handle(get(`/jobs/${job.id}`, 'POST'), ctx);
    expect(post?.status).toBe(405);
    const head = await api.handle(get(`/jobs/${job.id}`, 'HEAD'), ctx);
    expect(head?.status).toBe(200);
    expect(head?.body).toBeNull();
  });
});

describe('submit', () => {
  it('fails the job and answers 500 when the queue refuses it', async () => {
    const h = createJobsHarness();
    h.queue.send = async () => {
      throw new Error('namespace unreachable');
    };
    await expect(h.service.submit(submission())).rejects.toMatchObject({ code: 'GW_ERR_INTERNAL' });
    expect(h.payloads.keys()).toEqual([]);
    expect((await h.jobs.listExpired(Number.MAX_SAFE_INTEGER, 5)).map((j) => j.status)).toEqual(['failed']);
  });

  it('creates unguessable ids and namespaces payloads per owner', async () => {
    const h = createJobsHarness();
    const a = await h.service.submit(submission());
    const b = await h.service.submit(submission({ caller: MALLORY }));
    expect(a.id).not.toBe(b.id);
    const [keyA, keyB] = [jobPayloadKey(ALICE, a.id, 'request'), jobPayloadKey(MALLORY, b.id, 'request')];
    expect(h.payloads.keys().sort()).toEqual([keyA, keyB].sort());
    expect(keyA.split('/')[0]).not.toBe(keyB.split('/')[0]);
    expect(keyA).toMatch(/^u-[A-Za-z0-9_-]{22}\/[A-Za-z0-9_-]{22}\/request$/);
    expect(a).toMatchObject({
      owner: ALICE,
      status: 'queued',
      attempts: 0,
      deadlineMs: h.clock.now() + 1_800_000,
      retentionMs: 86_400_000,
      version: 1,
    });
  });
});
