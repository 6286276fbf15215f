import { randomBytes } from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, describe, expect, it } from 'vitest';
import { describeJobQueueContract } from '../../ports/job-queue.contract.js';
import { createStorageQueueJobQueue, type StorageQueueJobQueue } from './storage-queue-job-queue.js';
import { requireAzurite } from './test-support/azurite.js';

// Azurite's queue service keeps real time, in whole seconds of visibility: the suite runs with a 2 s
// visibility timeout and 1.1 s of slack (about 30 s of waiting in all, most of it the redelivery cases).
const VISIBILITY_MS = 2_000;
const MARGIN_MS = 1_100;

const created: string[] = [];
let service: QueueServiceClient | undefined;

function queueService(): QueueServiceClient {
  return (service ??= QueueServiceClient.fromConnectionString(requireAzurite().connectionString));
}

/** A fresh pair of queues (`gw…` and `gw…-poison`) on Azurite, deleted after the file. */
function freshQueue(maxDeliveries: number): { queue: StorageQueueJobQueue; name: string } {
  const name = `gw${randomBytes(6).toString('hex')}`;
  created.push(name, `${name}-poison`);
  const queue = createStorageQueueJobQueue(
    { queue: queueService().getQueueClient(name), poisonQueue: queueService().getQueueClient(`${name}-poison`) },
    { maxDeliveries },
  );
  return { queue, name };
}

afterAll(async () => {
  await Promise.all(
    created.map((name) =>
      queueService()
        .getQueueClient(name)
        .deleteIfExists()
        .catch(() => undefined),
    ),
  );
});

describeJobQueueContract('StorageQueueJobQueue (Azurite)', ({ maxDeliveries }) => ({
  queue: freshQueue(maxDeliveries).queue,
  now: () => Date.now(),
  advanceMs: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  visibilityMs: VISIBILITY_MS,
  marginMs: MARGIN_MS,
}));

describe('StorageQueueJobQueue wire format (Azurite)', () => {
  it('writes base64 JSON, the Functions queue trigger’s default encoding', async () => {
    const { queue, name } = freshQueue(5);
    await queue.send({ v: 1, jobId: 'j1', requestId: 'r1', enqueuedAtMs: 7 });
    const [item] = (await queueService().getQueueClient(name).peekMessages()).peekedMessageItems;
    expect(JSON.parse(Buffer.from(item!.messageText, 'base64').toString('utf8'))).toEqual({
      v: 1,
      jobId: 'j1',
      requestId: 'r1',
      enqueuedAtMs: 7,
    });
  });

  it('carries the deliveries of a re-scheduled copy, so the count goes on across copies', async () => {
    const { queue, name } = freshQueue(5);
    await queue.reschedule({ v: 1, jobId: 'j2', enqueuedAtMs: 1 }, 3, Date.now());
    const [item] = (await queueService().getQueueClient(name).peekMessages()).peekedMessageItems;
    expect(JSON.parse(Buffer.from(item!.messageText, 'base64').toString('utf8'))).toMatchObject({
      jobId: 'j2',
      gwPriorDeliveries: 3,
    });
    const [delivery] = await queue.receive(1, VISIBILITY_MS);
    expect(delivery).toMatchObject({ message: { jobId: 'j2' }, deliveryCount: 4 });
  });

  it('moves a message it cannot read to the poison queue instead of delivering it', async () => {
    const { queue, name } = freshQueue(5);
    await queueService().getQueueClient(name).createIfNotExists();
    await queueService().getQueueClient(name).sendMessage(Buffer.from('{"v":2,"jobId":"future"}').toString('base64'));
    expect(await queue.receive(5, VISIBILITY_MS)).toEqual([]);
    const [poison] = (await queueService().getQueueClient(`${name}-poison`).peekMessages()).peekedMessageItems;
    expect(JSON.parse(Buffer.from(poison!.messageText, 'base64').toString('utf8'))).toMatchObject({
      v: 2,
      gwDeadLetter: { reason: 'JOB_MESSAGE_UNREADABLE' },
    });
  });

  it.each([
    ['text that is not JSON', 'not json'],
    ['an empty job id', Buffer.from('{"v":1,"jobId":"","enqueuedAtMs":1}').toString('base64')],
    ['no enqueue time', Buffer.from('{"v":1,"jobId":"j"}').toString('base64')],
  ])('poisons a message of %s and goes on delivering the next one', async (_, text) => {
    const { queue, name } = freshQueue(5);
    await queueService().getQueueClient(name).createIfNotExists();
    await queueService().getQueueClient(name).sendMessage(text);
    await queue.send({ v: 1, jobId: 'good', enqueuedAtMs: 1 });
    const delivered = await queue.receive(5, VISIBILITY_MS);
    expect(delivered.map((d) => d.message.jobId)).toEqual(['good']);
    const [poison] = (await queueService().getQueueClient(`${name}-poison`).peekMessages()).peekedMessageItems;
    expect(JSON.parse(Buffer.from(poison!.messageText, 'base64').toString('utf8'))).toMatchObject({
      gwDeadLetter: { reason: 'JOB_MESSAGE_UNREADABLE', deliveryCount: 0 },
    });
  });

  it('reads a message the Functions host moved to the poison queue (no note) as exhausted deliveries', async () => {
    const { queue, name } = freshQueue(5);
    const poison = queueService().getQueueClient(`${name}-poison`);
    await poison.createIfNotExists();
    await poison.sendMessage(Buffer.from('{"v":1,"jobId":"j3","enqueuedAtMs":1}').toString('base64'));
    expect(await queue.peekDeadLetters(5)).toEqual([
      { message: { v: 1, jobId: 'j3', enqueuedAtMs: 1 }, deliveryCount: 5, reason: 'MaxDequeueCountExceeded' },
    ]);
  });
});
