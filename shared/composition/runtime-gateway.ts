import { MemoryAffinityStore } from '../adapters/memory/memory-affinity-store.js';
import { createTiktokenTokenEstimator } from '../adapters/tokenizer/tiktoken-token-estimator.js';
import { createGateway, type Gateway } from '../core/gateway.js';
import { createAdmission, type GatewayAdmission } from '../core/governance/admission.js';
import {
  createJoseAccessTokenVerifier,
  entraVerifierOptions,
} from '../adapters/identity/jose-access-token-verifier.js';
import { MemoryQuotaStore } from '../adapters/memory/memory-quota-store.js';
import type { RuntimeOptions } from './create-runtime.js';
import type { RuntimeBase } from './runtime-base.js';
import { runtimeAdminApi, runtimeReadiness } from './runtime-admin.js';
import type { RuntimeParts } from './runtime-parts.js';

/** The engine over the runtime's parts; every call's summary also reaches the status board. */
export function runtimeGateway(parts: RuntimeParts, admission: GatewayAdmission): Gateway {
  const { options, initial, clock, health, status } = parts;
  return createGateway({
    drain: parts.callDrain,
    config: parts.sync.current,
    transport: parts.counted.transport,
    credentials: parts.credentials,
    clock,
    random: options.random ?? Math.random,
    health,
    admission,
    gate: parts.gate,
    estimator: options.estimator ?? createTiktokenTokenEstimator(),
    affinity: options.affinityStore ?? new MemoryAffinityStore({ clock, maxEntries: initial.affinity.maxEntries }),
    jobs: { service: parts.jobs.service, api: parts.jobs.api },
    admin: runtimeAdminApi(parts),
    readiness: runtimeReadiness(parts),
    ledger: parts.ledger,
    usageExporter: parts.usageExporter,
    telemetry: parts.telemetry,
    backgroundWrites: parts.backgroundWrites,
    onCallEnd: (summary) => {
      status.recordCall(summary);
      options.onCallEnd?.(summary);
    },
  });
}

/** Admission over the configured governance: Entra tokens verified when enabled, quotas in memory by default. */
export function runtimeAdmission(options: RuntimeOptions, { config, initial, clock }: RuntimeBase): GatewayAdmission {
  const entra = initial.governance.identity.entra;
  const verifier =
    options.tokenVerifier ?? (entra.enabled ? createJoseAccessTokenVerifier(entraVerifierOptions(entra)) : undefined);
  return createAdmission({
    governance: () => config().governance,
    verifier,
    quotas: options.quotaStore ?? new MemoryQuotaStore(),
    clock,
  });
}
