import type { JobTransport } from '../../shared/composition/create-azure-runtime.js';

/** The Functions app's own settings (`GATEWAY_FUNCTIONS__*`); the engine's settings are `GATEWAY_<SECTION>__*`. */
export interface FunctionsSettings {
  /** `azure` (Table, Blob, Service Bus) or `memory` (smoke tests; a laptop without Azurite). Default `azure`. */
  readonly stores: 'azure' | 'memory';
  /**
   * Where long calls wait for the `longCallWorker` trigger (ADR 0007): `service-bus` (a Service Bus queue
   * trigger), `storage-queue` (an Azure Storage queue trigger on `AzureWebJobsStorage` — Azurite under
   * `func start`), or `in-process` (no queue: the instance that took the call runs it). Default
   * `service-bus` when a `ServiceBusConnection` is configured, else `storage-queue`.
   */
  readonly jobTransport: JobTransport;
  /** Async jobs run under the durable `gatewayRequest` orchestration. Default true; always false `in-process`. */
  readonly durableJobs: boolean;
  /** Every non-streaming request goes through the orchestration (as if it opted into async). Default false. */
  readonly durableAllRequests: boolean;
  /**
   * `0` turns capacity sharing through the ledger entity off (each instance admits its configured
   * capacity); another value overrides `scheduling.sharing.reportIntervalMs`. Unset (recommended): the
   * configuration's value (1 000 ms).
   */
  readonly ledgerReportIntervalMs: number | undefined;
  /** Service Bus queue of long calls. Default `gateway-jobs`. */
  readonly jobQueue: string;
  /** Largest body the proxy reads to decide `durableAllRequests` (bigger ones go direct). Default 1 MiB. */
  readonly durableAllMaxBodyBytes: number;
  /**
   * Where the engine's configuration comes from: `file` (`gateway.config.json` / `GATEWAY_CONFIG_FILE`, plus
   * `GATEWAY_*` settings; default) or `app-configuration` (keys under `appConfigPrefix` with `appConfigLabel`
   * in the store named by the `AppConfigConnection` settings, reloaded when the sentinel key changes).
   */
  readonly configSource: 'file' | 'app-configuration';
  /** App Configuration key prefix. Default `gateway:`. */
  readonly appConfigPrefix: string;
  /** App Configuration label. Default: no label. */
  readonly appConfigLabel: string | undefined;
  /** How often the sentinel key is polled. Default 30 000 ms. */
  readonly appConfigPollIntervalMs: number;
}

/**
 * Reads {@link FunctionsSettings} from app settings.
 *
 * @example
 * readFunctionsSettings(process.env).durableAllRequests; // false
 */
export function readFunctionsSettings(env: Readonly<Record<string, string | undefined>>): FunctionsSettings {
  const get = (key: string): string | undefined => {
    const value = env[`GATEWAY_FUNCTIONS__${key}`];
    return value === undefined || value === '' ? undefined : value;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = get(key);
    return value === undefined ? fallback : /^(true|1|yes)$/i.test(value);
  };
  const int = (key: string, fallback: number): number => {
    const value = Number(get(key));
    return Number.isInteger(value) && value >= 0 && get(key) !== undefined ? value : fallback;
  };
  const jobTransport = readJobTransport(get('JOB_TRANSPORT'), env);
  return {
    stores: get('STORES') === 'memory' ? 'memory' : 'azure',
    jobTransport,
    // An in-process run raises no completion event, so an orchestration would hold its capacity to the deadline.
    durableJobs: jobTransport !== 'in-process' && bool('DURABLE_JOBS', true),
    durableAllRequests: bool('DURABLE_ALL_REQUESTS', false),
    ledgerReportIntervalMs:
      get('LEDGER_REPORT_INTERVAL_MS') === undefined ? undefined : int('LEDGER_REPORT_INTERVAL_MS', 0),
    jobQueue: get('JOB_QUEUE') ?? 'gateway-jobs',
    durableAllMaxBodyBytes: int('DURABLE_ALL_MAX_BODY_BYTES', 1_048_576),
    configSource: get('CONFIG_SOURCE') === 'app-configuration' ? 'app-configuration' : 'file',
    appConfigPrefix: get('APPCONFIG_PREFIX') ?? 'gateway:',
    appConfigLabel: get('APPCONFIG_LABEL'),
    appConfigPollIntervalMs: int('APPCONFIG_POLL_INTERVAL_MS', 30_000),
  };
}

const JOB_TRANSPORTS: readonly JobTransport[] = ['service-bus', 'storage-queue', 'in-process'];

/** `GATEWAY_FUNCTIONS__JOB_TRANSPORT`, or what the connections configured imply. */
function readJobTransport(value: string | undefined, env: Readonly<Record<string, string | undefined>>): JobTransport {
  if (value === undefined) return serviceBusConfigured(env) ? 'service-bus' : 'storage-queue';
  if (!(JOB_TRANSPORTS as readonly string[]).includes(value))
    throw new Error(`GATEWAY_FUNCTIONS__JOB_TRANSPORT is "${value}": use one of ${JOB_TRANSPORTS.join(', ')}.`);
  return value as JobTransport;
}

/**
 * True when the `ServiceBusConnection` the Service Bus trigger names is set: a connection string, or an
 * identity-based `ServiceBusConnection__fullyQualifiedNamespace`.
 */
export function serviceBusConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  const set = (name: string): boolean => (env[name] ?? '') !== '';
  return set('ServiceBusConnection') || set('ServiceBusConnection__fullyQualifiedNamespace');
}
