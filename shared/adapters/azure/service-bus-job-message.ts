import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import type { JobMessage } from '../../ports/job-queue.js';
import { PRIOR_DELIVERIES_KEY, priorDeliveriesOf } from './held-deliveries.js';

/** `applicationProperties` key: deliveries of the earlier copies of a re-scheduled message. */
export const PRIOR_DELIVERIES_PROPERTY = PRIOR_DELIVERIES_KEY;
/** `applicationProperties` key: the message schema version (mirrors the body's `v`). */
export const SCHEMA_PROPERTY = 'gwSchema';

/**
 * The Service Bus message of a job: the {@link JobMessage} JSON body, `messageId` the job id (duplicate
 * detection drops a second enqueue of the same job), `correlationId` the request id.
 */
export function serviceBusJobMessage(message: JobMessage, deliverAtMs?: number): ServiceBusMessage {
  return {
    body: message,
    contentType: 'application/json',
    messageId: message.jobId,
    ...(message.requestId === undefined ? {} : { correlationId: message.requestId }),
    applicationProperties: { [SCHEMA_PROPERTY]: message.v },
    ...(deliverAtMs === undefined ? {} : { scheduledEnqueueTimeUtc: new Date(deliverAtMs) }),
  };
}

/**
 * A scheduled copy of a job message for a delayed retry: `messageId` `{jobId}.r{n}` passes duplicate
 * detection, and the deliveries so far travel in {@link PRIOR_DELIVERIES_PROPERTY}.
 */
export function serviceBusRetryCopy(message: JobMessage, deliveries: number, deliverAtMs: number): ServiceBusMessage {
  const copy = serviceBusJobMessage(message, deliverAtMs);
  return {
    ...copy,
    messageId: `${message.jobId}.r${deliveries}`,
    applicationProperties: { ...copy.applicationProperties, [PRIOR_DELIVERIES_PROPERTY]: deliveries },
  };
}

/** Deliveries of the earlier copies of a received message. */
export function priorDeliveriesOfMessage(message: ServiceBusReceivedMessage): number {
  return priorDeliveriesOf(message.applicationProperties?.[PRIOR_DELIVERIES_PROPERTY]);
}
