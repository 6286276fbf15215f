import { app, type InvocationContext } from '@azure/functions';
import { durableClientInput } from '../bridge/durable-registration.js';
import { effectiveDeliveryCount, hostSettlementOf } from '../../shared/core/jobs/host-settlement.js';
import { parseJobMessage } from '../../shared/core/jobs/job-message.js';
import { isFinished } from '../../shared/core/jobs/job-state-machine.js';
import { readFunctionsSettings } from '../bridge/functions-settings.js';
import { functionsHost } from '../bridge/host-loader.js';
import { workerShutdown } from '../bridge/shutdown.js';

/** Abandons below this delay are immediate redeliveries; longer ones are re-scheduled copies. */
const IMMEDIATE_RETRY_BELOW_MS = 1_000;

/** Thrown to make the host abandon the message (it completes on return). Its message is the settlement's reason. */
export class AbandonMessage extends Error {
  override readonly name = 'AbandonMessage';
}

/**
 * The `longCallWorker` queue trigger — Service Bus, or an Azure Storage queue (`func start` with Azurite
 * only; ADR 0007), whichever `GATEWAY_FUNCTIONS__JOB_TRANSPORT` names: runs the job with the engine
 * (`worker.handleMessage`: claim by conditional transition, run, stream the response into Blob, record the
 * outcome), applies the
 * settlement the way a host-settled trigger can (`hostSettlementOf`), and tells the job's orchestration
 * when the job is finished. Idempotent under redelivery: the job store's conditional transitions decide
 * whether anything runs, and a duplicate completion event is ignored by the orchestration.
 */
export async function longCallWorker(message: unknown, context: InvocationContext): Promise<void> {
  const host = await functionsHost();
  host.durable.remember(context);
  const metadata = context.triggerMetadata ?? {};
  // Service Bus: `deliveryCount`, prior copies in an application property. Storage queue: `dequeueCount`,
  // prior copies in the message itself (Storage queue messages have no properties).
  const deliveryCount = effectiveDeliveryCount(
    metadata['deliveryCount'] ?? metadata['dequeueCount'],
    metadata['applicationProperties'] ?? message,
  );
  const settlement = await host.runtime.jobs.worker.handleMessage(message, deliveryCount, workerShutdown.signal);
  context.log(
    `job message ${String(metadata['messageId'] ?? metadata['id'] ?? '?')} ` +
      `delivery ${deliveryCount}: ${settlement.action} (${settlement.reason})`,
  );

  const parsed = parseJobMessage(message);
  if (parsed !== undefined) {
    const job = await host.jobStore.get(parsed.jobId);
    if (job !== undefined && isFinished(job.status)) await host.durable.jobFinished(job.id, job.status);
  }
  const action = hostSettlementOf(settlement, IMMEDIATE_RETRY_BELOW_MS, Date.now());
  if (action.kind === 'throw') throw new AbandonMessage(action.message);
  // Send the copy before returning (which completes this one): a crash in between leaves a duplicate, never a loss.
  if (action.kind === 'reschedule' && parsed !== undefined)
    await host.reschedule(parsed, deliveryCount, action.deliverAtMs);
}

// One worker, registered on the transport the app settings name (an `in-process` app registers none): the
// Service Bus trigger only when its connection is configured, so `func start` needs no Service Bus emulator.
const transport = readFunctionsSettings(process.env).jobTransport;
if (transport === 'service-bus')
  app.serviceBusQueue('longCallWorker', {
    connection: 'ServiceBusConnection',
    queueName: '%GATEWAY_FUNCTIONS__JOB_QUEUE%',
    extraInputs: [durableClientInput()],
    handler: longCallWorker,
  });
else if (transport === 'storage-queue')
  app.storageQueue('longCallWorker', {
    connection: 'AzureWebJobsStorage',
    queueName: '%GATEWAY_FUNCTIONS__JOB_QUEUE%',
    extraInputs: [durableClientInput()],
    handler: longCallWorker,
  });
