// Test-only harness (excluded from the build): engine tests run on the memory adapters, as *.test.ts files may.
/* eslint-disable @typescript-eslint/no-restricted-imports */
import { MemoryJobQueue } from '../../../adapters/memory/memory-job-queue.js';
import { MemoryJobStore } from '../../../adapters/memory/memory-job-store.js';
import { MemoryPayloadStore } from '../../../adapters/memory/memory-payload-store.js';
/* eslint-enable @typescript-eslint/no-restricted-imports */
import { FakeClock } from '../../test-support/fake-clock.js';
import type { GatewayRequest } from '../../http/gateway-request.js';
import { createJobService, type JobServiceOptions } from '../job-service.js';
import { JobSignals } from '../job-signals.js';
import { createJobWorker, type JobExecution, type JobWorkerOptions } from '../job-worker.js';
import { ManualTimers } from './manual-timers.js';

export const ALICE = { userId: 'key:alice', profileId: 'batch', appId: 'app-1' } as const;
export const MALLORY = { userId: 'key:mallory', profileId: 'batch', appId: 'app-1' } as const;

export interface ExecuteCall {
  readonly request: GatewayRequest;
  readonly body: string;
  resolve(execution: JobExecution): void;
  reject(error: unknown): void;
}

/** Everything of the jobs engine on memory adapters, a fake clock and an execute the test controls. */
export function createJobsHarness(
  options: { service?: JobServiceOptions; worker?: JobWorkerOptions; maxDeliveries?: number } = {},
) {
  const clock = new FakeClock();
  const timers = new ManualTimers(clock);
  const jobs = new MemoryJobStore();
  const payloads = new MemoryPayloadStore();
  const queue = new MemoryJobQueue({ clock, maxDeliveries: options.maxDeliveries ?? 5 });
  const signals = new JobSignals();
  const calls: ExecuteCall[] = [];
  const waiters: Array<(call: ExecuteCall) => void> = [];
  let claimed = 0;
  const execute = async (request: GatewayRequest): Promise<JobExecution> => {
    const chunks: Buffer[] = [];
    if (request.body !== null) for await (const chunk of request.body) chunks.push(Buffer.from(chunk));
    return new Promise<JobExecution>((resolve, reject) => {
      const call: ExecuteCall = { request, body: Buffer.concat(chunks).toString('utf8'), resolve, reject };
      request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true });
      calls.push(call);
      const waiter = waiters.shift();
      if (waiter !== undefined) {
        claimed++;
        waiter(call);
      }
    });
  };
  const service = createJobService(
    { jobs, payloads, queue, clock, signals, setTimer: timers.setTimer },
    options.service,
  );
  const workerOptions: JobWorkerOptions = {
    maxDeliveries: options.maxDeliveries ?? 5,
    leaseMs: 60_000,
    ...options.worker,
  };
  const worker = createJobWorker({ jobs, payloads, clock, signals, execute, setTimer: timers.setTimer }, workerOptions);
  /** Another worker process: same stores, its own timers (advance them or not to simulate a crash). */
  const otherWorker = (otherTimers = new ManualTimers(clock)) =>
    createJobWorker(
      { jobs, payloads, clock, signals: new JobSignals(), execute, setTimer: otherTimers.setTimer },
      workerOptions,
    );
  /** The next call of `execute` not yet handed out, waiting for it if need be. */
  const nextCall = (): Promise<ExecuteCall> => {
    const ready = calls[claimed];
    if (ready !== undefined) {
      claimed++;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => waiters.push(resolve));
  };
  return { clock, timers, jobs, payloads, queue, signals, service, worker, otherWorker, calls, nextCall, execute };
}

export function submission(
  overrides: {
    body?: string;
    syncWaitMs?: number;
    caller?: { userId: string; profileId?: string; appId?: string };
  } = {},
) {
  return {
    requestId: 'req-1',
    caller: overrides.caller ?? ALICE,
    routeId: 'chat',
    model: 'gpt-4o',
    priority: 3,
    request: {
      method: 'POST',
      path: '/v1/chat/completions?x=1',
      headers: new Headers({ 'content-type': 'application/json', 'x-gateway-async': 'true', 'x-trace': 't1' }),
      body: new TextEncoder().encode(overrides.body ?? '{"model":"gpt-4o","messages":[]}'),
    },
    ...(overrides.syncWaitMs === undefined ? {} : { syncWaitMs: overrides.syncWaitMs }),
  };
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): JobExecution {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return {
    response: {
      status,
      headers: new Headers({
        'content-type': 'application/json',
        'content-length': String(bytes.byteLength),
        ...headers,
      }),
      body: (async function* () {
        yield bytes;
      })(),
    },
  };
}

export async function readText(body: AsyncIterable<Uint8Array> | null): Promise<string> {
  if (body === null) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
