import {
  durableClientInput,
  registerActivity,
  registerEntity,
  registerOrchestration,
} from '../bridge/durable-registration.js';
import {
  CAPACITY_LEDGER_ENTITY,
  ENQUEUE_JOB_ACTIVITY,
  FINALIZE_JOB_ACTIVITY,
  GATEWAY_REQUEST_ORCHESTRATOR,
} from './names.js';

// The durable functions of the app: registered at import (the host indexes them), their modules — and
// durable-functions itself — loaded when one first runs (see durable-registration.ts).
registerOrchestration(
  GATEWAY_REQUEST_ORCHESTRATOR,
  async () => (await import('./gateway-request.js')).gatewayRequestOrchestrator,
);
// The entity raises CapacityGranted on orchestrations through a durable client bound to it.
registerEntity(CAPACITY_LEDGER_ENTITY, async () => (await import('./capacity-ledger-entity.js')).capacityLedgerEntity, {
  extraInputs: [durableClientInput()],
});
registerActivity(ENQUEUE_JOB_ACTIVITY, async () => (await import('./job-activities.js')).enqueueJob);
registerActivity(FINALIZE_JOB_ACTIVITY, async () => (await import('./job-activities.js')).finalizeJob);
