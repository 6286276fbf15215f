import type { CallDrain } from '../core/lifecycle/call-drain.js';
import type { HealthTracker } from '../core/resilience/health-tracker.js';
import type { InFlightTransport } from '../core/status/in-flight-transport.js';
import type { StatusBoard } from '../core/status/status-board.js';
import type { BackendHealthStore } from '../ports/backend-health-store.js';
import type { CredentialProvider } from '../ports/credential-provider.js';
import type { ConfigSync } from './config-sync.js';
import type { RuntimeOptions } from './create-runtime.js';
import type { RuntimeBase } from './runtime-base.js';
import type { RuntimeJobService } from './runtime-jobs.js';
import type { RuntimeProbes } from './runtime-probes.js';
import type { RuntimeScheduling } from './runtime-scheduling.js';
import type { RuntimeUsage } from './runtime-usage.js';

/** Everything `createRuntime` builds before the gateway: what the gateway, admin API and shutdown are wired from. */
export interface RuntimeParts extends RuntimeBase, RuntimeUsage, RuntimeScheduling, RuntimeProbes {
  readonly options: RuntimeOptions;
  /** The backend transport, counting the attempts in flight per backend (the status page). */
  readonly counted: InFlightTransport;
  readonly credentials: CredentialProvider;
  readonly healthStore: BackendHealthStore;
  readonly health: HealthTracker;
  readonly status: StatusBoard;
  readonly sync: ConfigSync;
  readonly jobs: RuntimeJobService;
  readonly callDrain: CallDrain;
  readonly stopMetrics: () => void;
}
