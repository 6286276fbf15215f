import type { AzureClients } from '../adapters/azure/azure-clients.js';
import { serviceBusRetryCopy } from '../adapters/azure/service-bus-job-message.js';
import { createServiceBusJobQueueFromClient } from '../adapters/azure/service-bus-job-queue.js';
import { createStorageQueueJobQueue } from '../adapters/azure/storage-queue-job-queue.js';
import { MemoryJobQueue } from '../adapters/memory/memory-job-queue.js';
import { systemClock } from '../core/clock.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { AzureRuntime, JobTransport } from './create-azure-runtime.js';

/** The job queue long calls wait on, and how a delayed retry re-sends a message to it. */
export interface AzureJobQueue {
  readonly jobQueue: JobQueue;
  readonly reschedule: AzureRuntime['reschedule'];
}

/**
 * The job queue of a transport: Service Bus (`queueName`), a Storage queue of the same account (`queueName`
 * and `{queueName}-poison`), or in memory.
 */
export function azureJobQueue(
  clients: AzureClients,
  queueName: string,
  transport: JobTransport,
  maxDeliveries: number,
): AzureJobQueue {
  if (transport === 'service-bus') {
    const jobQueue = createServiceBusJobQueueFromClient(clients.serviceBusClient(), queueName, { maxDeliveries });
    return { jobQueue, reschedule: serviceBusReschedule(clients, queueName) };
  }
  if (transport === 'storage-queue') {
    const queues = clients.queueServiceClient();
    const queue = createStorageQueueJobQueue(
      { queue: queues.getQueueClient(queueName), poisonQueue: queues.getQueueClient(`${queueName}-poison`) },
      { maxDeliveries },
    );
    return { jobQueue: queue, reschedule: queue.reschedule };
  }
  return memoryJobQueue(maxDeliveries);
}

/** An in-process job queue; a delayed retry is a send with `deliverAtMs` (the count is the queue's own). */
export function memoryJobQueue(maxDeliveries: number): AzureJobQueue {
  const jobQueue = new MemoryJobQueue({ clock: systemClock, maxDeliveries });
  return { jobQueue, reschedule: (message, _deliveries, deliverAtMs) => jobQueue.send(message, { deliverAtMs }) };
}

/** Re-sends a job message later on Service Bus, carrying its deliveries (see {@link AzureRuntime.reschedule}). */
function serviceBusReschedule(clients: AzureClients, queueName: string): AzureRuntime['reschedule'] {
  const sender = clients.serviceBusClient().createSender(queueName);
  return (message, deliveries, deliverAtMs) =>
    sender.sendMessages(serviceBusRetryCopy(message, deliveries, deliverAtMs));
}
