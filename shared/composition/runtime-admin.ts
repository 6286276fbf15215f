import { hostname } from 'node:os';
import { createAdminApi, type AdminApi } from '../core/admin/admin-api.js';
import type { Readiness } from '../core/pipeline/builtin-endpoints.js';
import { LedgerToday } from '../core/status/ledger-today.js';
import { StatusBoard, type StatusSources } from '../core/status/status-board.js';
import type { RuntimeOptions } from './create-runtime.js';
import type { RuntimeBase } from './runtime-base.js';
import type { RuntimeParts } from './runtime-parts.js';
import { withTimeout } from './with-timeout.js';

/** The live operating picture behind the status page, naming the configuration's source and this instance. */
export function runtimeStatusBoard(options: RuntimeOptions, { clock, config }: RuntimeBase): StatusBoard {
  return new StatusBoard({
    clock,
    config,
    configSource: options.configSource ?? 'configuration',
    instance: `${hostname()}:${process.pid}`,
  });
}

/** The admin API over the runtime's parts: status, usage, and the live status page's sources. */
export function runtimeAdminApi(parts: RuntimeParts): AdminApi {
  const { config, health, gate, ledger, clock, status, shareAgent } = parts;
  return createAdminApi({
    config,
    health,
    gate,
    ledger,
    clock,
    status: { board: status, sources: statusSources(parts) },
    capacitySharing: () => shareAgent?.status(),
  });
}

/** What the status page reads: health, the scheduler, attempts in flight, exports, and today's ledger totals. */
function statusSources(parts: RuntimeParts): StatusSources {
  const { health, gate, counted, usageExporter, ledger, clock, config, telemetry, options } = parts;
  return {
    health,
    scheduler: () => gate.stats(),
    inFlight: counted.inFlight,
    exports: () => (usageExporter === undefined ? [] : [usageExporter.stats()]),
    today: new LedgerToday({
      ledger,
      clock,
      pricing: () => config().usage,
      maxAgeMs: options.statusLedgerMaxAgeMs,
      onError: (error) => telemetry.exception(error, { component: 'status-ledger' }),
    }),
  };
}

/**
 * Ready = the configuration loaded (it did, or nothing would run), at least one backend usable (the engine
 * checks) and the shared health store answering within 2 s; the storage account is named when given.
 */
export function runtimeReadiness({ config, healthStore, options }: RuntimeParts): Readiness {
  return async () => {
    const ids = config().backends.map((b) => b.id);
    const account = options.storage === undefined ? {} : { storage: options.storage };
    try {
      await withTimeout(healthStore.read(ids.slice(0, 1)), 2_000);
      return { ready: true, detail: { stores: { health: 'ok', ...account } } };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ready: false, detail: { stores: { health: `unreachable: ${reason}`, ...account } } };
    }
  };
}
