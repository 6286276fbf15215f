import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import type { GatewayConfig } from '../../shared/config/gateway-schema.js';
import { createBackgroundWrites, type BackgroundWrites } from '../../shared/core/resilience/background-writes.js';
import type { JobMessage, JobQueue } from '../../shared/ports/job-queue.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { GatewayRequestInput } from './gateway-request.js';
import { GATEWAY_REQUEST_ORCHESTRATOR, JOB_CANCELLED_EVENT, JOB_FINISHED_EVENT } from './names.js';

/** The part of `DurableClient` the app uses (tests pass a fake). */
export type DurableClientPart = Pick<DurableClient, 'startNew' | 'raiseEvent' | 'signalEntity' | 'readEntityState'>;

/**
 * This instance's link to Durable Functions: the durable client (taken from any invocation that binds
 * it — its endpoint is the same for every invocation of the app), which the capacity ledger
 * (`durable-capacity-ledger.ts`), the orchestrating job queue and the events the worker and the `jobs`
 * trigger raise all use.
 */
export class DurableLink {
  private durableClient: DurableClientPart | undefined;
  private writes: BackgroundWrites = createBackgroundWrites();

  /** Keeps the durable client of an invocation that has the `durableClient` input binding. */
  remember(context: InvocationContext): void {
    if (this.durableClient !== undefined) return;
    try {
      this.durableClient = df.getClient(context);
    } catch {
      // The invocation has no durable client binding (tests, smoke): durable features stay off.
    }
  }

  /** Where failed job events are counted and reported (the runtime's, once it is built). */
  reportWritesTo(writes: BackgroundWrites): void {
    this.writes = writes;
  }

  /** Sets the client directly (tests). */
  useClient(client: DurableClientPart | undefined): void {
    this.durableClient = client;
  }

  get client(): DurableClientPart | undefined {
    return this.durableClient;
  }

  /**
   * Tells the job's orchestration that the worker finished it, so that it releases the job's capacity
   * lease now rather than at its deadline. Retried (the orchestration takes the first event and ignores
   * the rest); a failure is counted and reported, never thrown. A job run without an orchestration has none.
   */
  async jobFinished(jobId: string, status: string): Promise<void> {
    const client = this.durableClient;
    if (client === undefined) return;
    await this.writes.run('job-finished-event', () => client.raiseEvent(jobId, JOB_FINISHED_EVENT, { status }), {
      retries: 2,
      context: { jobId },
    });
  }

  /** Tells the job's orchestration that its owner cancelled it. Retried; a failure is counted and reported. */
  async jobCancelled(jobId: string): Promise<void> {
    const client = this.durableClient;
    if (client === undefined) return;
    await this.writes.run('job-cancelled-event', () => client.raiseEvent(jobId, JOB_CANCELLED_EVENT, {}), {
      retries: 2,
      context: { jobId },
    });
  }
}

/** What the orchestrating queue needs to know about a job to start its orchestration. */
export interface OrchestratingJobQueueDeps {
  readonly queue: JobQueue;
  readonly jobStore: JobStore;
  readonly link: DurableLink;
  readonly config: () => GatewayConfig;
}

/**
 * The job queue the engine submits to in the Functions app: a new job starts its `gatewayRequest`
 * orchestration (instance id = job id) instead of going straight to Service Bus; the orchestration's
 * `enqueueJob` activity sends it once the pool's ledger grants a slot. Without a durable client (not
 * bound yet, or durable jobs off) and for delayed sends, it sends directly. Everything else delegates.
 */
export function createOrchestratingJobQueue(deps: OrchestratingJobQueueDeps): JobQueue {
  const { queue, jobStore, link, config } = deps;
  return {
    async send(message: JobMessage, options) {
      const client = link.client;
      if (client === undefined || options?.deliverAtMs !== undefined) return queue.send(message, options);
      const job = await jobStore.get(message.jobId);
      const route = job === undefined ? undefined : config().routes.find((r) => r.id === job.routeId);
      if (job === undefined || route === undefined) return queue.send(message, options);
      const input: GatewayRequestInput = {
        jobId: job.id,
        requestId: job.requestId,
        poolId: route.pool,
        level: job.priority,
        deadlineMs: job.deadlineMs,
      };
      await client.startNew(GATEWAY_REQUEST_ORCHESTRATOR, { instanceId: job.id, input });
    },
    receive: (max, visibility) => queue.receive(max, visibility),
    complete: (token) => queue.complete(token),
    abandon: (token, options) => queue.abandon(token, options),
    deadLetter: (token, reason) => queue.deadLetter(token, reason),
    renewLock: (token, visibility) => queue.renewLock(token, visibility),
    peekDeadLetters: (max) => queue.peekDeadLetters(max),
  };
}
