import { describe, expect, it } from 'vitest';
import { ServiceBusClient } from '@azure/service-bus';
import { DefaultAzureCredential } from '@azure/identity';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { describeJobQueueContract } from '../../ports/job-queue.contract.js';
import { createServiceBusJobQueue, createServiceBusJobQueueFromClient } from './service-bus-job-queue.js';
import { FakeServiceBusQueue } from './test-support/fake-service-bus-queue.js';

function harness(maxDeliveries: number) {
  const clock = new FakeClock();
  const fake = new FakeServiceBusQueue({
    now: () => clock.now(),
    lockDurationMs: 30_000,
    maxDeliveryCount: maxDeliveries,
  });
  const queue = createServiceBusJobQueue(
    {
      sender: fake.sender,
      receiver: fake.receiver,
      openDeadLetterReceiver: fake.openDeadLetterReceiver,
      now: () => clock.now(),
    },
    { maxDeliveries, receiveWaitMs: 0 },
  );
  return { queue, fake, clock, now: () => clock.now(), advanceMs: async (ms: number) => clock.advance(ms) };
}

describeJobQueueContract('ServiceBusJobQueue (fake Service Bus entity)', ({ maxDeliveries }) => harness(maxDeliveries));

describe('ServiceBusJobQueue message mapping', () => {
  it('uses the job id as messageId, so a second send of the same job is dropped by duplicate detection', async () => {
    const { queue, fake } = harness(5);
    await queue.send({ v: 1, jobId: 'j1', requestId: 'r1', enqueuedAtMs: 1 });
    await queue.send({ v: 1, jobId: 'j1', requestId: 'r1', enqueuedAtMs: 2 });
    expect(fake.activeCount).toBe(1);
  });

  it('sends the versioned JSON body with correlation and schema properties', async () => {
    const sent: unknown[] = [];
    const { fake } = harness(5);
    const queue = createServiceBusJobQueue(
      {
        sender: { sendMessages: async (m) => void sent.push(m) },
        receiver: fake.receiver,
        openDeadLetterReceiver: fake.openDeadLetterReceiver,
      },
      { maxDeliveries: 5 },
    );
    await queue.send({ v: 1, jobId: 'j1', requestId: 'r1', enqueuedAtMs: 1 }, { deliverAtMs: 5_000 });
    expect(sent).toEqual([
      {
        body: { v: 1, jobId: 'j1', requestId: 'r1', enqueuedAtMs: 1 },
        contentType: 'application/json',
        messageId: 'j1',
        correlationId: 'r1',
        applicationProperties: { gwSchema: 1 },
        scheduledEnqueueTimeUtc: new Date(5_000),
      },
    ]);
  });

  it('counts deliveries across a delayed abandon and dead-letters past maxDeliveries', async () => {
    const { queue, advanceMs } = harness(2);
    await queue.send({ v: 1, jobId: 'j', enqueuedAtMs: 1 });
    const [first] = await queue.receive(1, 30_000);
    await queue.abandon(first!.lockToken, { retryAfterMs: 1_000 });
    await advanceMs(1_000);
    const [second] = await queue.receive(1, 30_000);
    expect(second?.deliveryCount).toBe(2);
    await queue.abandon(second!.lockToken, { retryAfterMs: 1_000 });
    await advanceMs(1_000);
    expect(await queue.receive(1, 30_000)).toEqual([]);
    expect(await queue.peekDeadLetters(5)).toEqual([
      expect.objectContaining({ message: expect.objectContaining({ jobId: 'j' }), reason: 'MaxDeliveryCountExceeded' }),
    ]);
  });

  it('dead-letters a message it cannot read instead of handing it to a worker', async () => {
    const { queue, fake } = harness(5);
    await fake.sender.sendMessages({ body: { v: 2, jobId: 'future' }, messageId: 'x' });
    expect(await queue.receive(5, 30_000)).toEqual([]);
    expect(fake.activeCount).toBe(0);
  });

  it.each([
    ['bytes that are not JSON', new Uint8Array([0x7b, 0xff])],
    ['an empty job id', { v: 1, jobId: '', enqueuedAtMs: 1 }],
    ['a job id over 128 characters', { v: 1, jobId: 'x'.repeat(129), enqueuedAtMs: 1 }],
    ['no enqueue time', { v: 1, jobId: 'j' }],
  ])('dead-letters a body of %s and goes on delivering the next message', async (_, body) => {
    const { queue, fake } = harness(5);
    await fake.sender.sendMessages({ body, messageId: 'bad' });
    await queue.send({ v: 1, jobId: 'good', enqueuedAtMs: 1 });
    const delivered = await queue.receive(5, 30_000);
    expect(delivered.map((d) => d.message.jobId)).toEqual(['good']);
    expect(fake.activeCount).toBe(1);
  });
});

const namespace = process.env.GATEWAY_TEST_SERVICEBUS_NAMESPACE;
const queueName = process.env.GATEWAY_TEST_SERVICEBUS_QUEUE ?? 'gateway-jobs-test';
describe.skipIf(!namespace)('ServiceBusJobQueue (live Service Bus)', () => {
  // The live queue must be empty, with LockDuration 30 s and MaxDeliveryCount 3 or 5 as asked; time passes for real.
  describeJobQueueContract('ServiceBusJobQueue (live)', ({ maxDeliveries }) => {
    const client = new ServiceBusClient(namespace ?? '', new DefaultAzureCredential());
    const queue = createServiceBusJobQueueFromClient(client, queueName, { maxDeliveries, receiveWaitMs: 2_000 });
    return { queue, now: () => Date.now(), advanceMs: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
  });
});
