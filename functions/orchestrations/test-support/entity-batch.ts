import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { PoolLedger } from '../../../shared/core/scheduling/capacity-ledger.js';
import { CAPACITY_LEDGER_ENTITY } from '../names.js';

/** What the entity function returns to the Durable extension for one batch (`EntityState`). */
export interface EntityBatchResult {
  readonly entityExists: boolean;
  readonly entityState?: string;
  readonly results: ReadonlyArray<{ readonly isError: boolean; readonly result?: string }>;
}

/** One event the entity raised through its durable client. */
export interface RaisedEvent {
  readonly instanceId: string;
  readonly eventName: string;
  readonly body: unknown;
}

/**
 * A stand-in for the Durable extension's HTTP API on loopback (port 0): the real `DurableClient` the
 * entity builds from its binding posts `raiseEvent` here, and the events are recorded. The SDK is not
 * faked; only the far end of its HTTP calls is.
 */
export interface FakeDurableApi {
  readonly url: string;
  readonly raised: RaisedEvent[];
  close(): Promise<void>;
}

/** Starts a {@link FakeDurableApi}. */
export async function startFakeDurableApi(): Promise<FakeDurableApi> {
  const raised: RaisedEvent[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const match = /\/instances\/([^/]+)\/raiseEvent\/([^/?]+)/.exec(req.url ?? '');
      if (req.method === 'POST' && match !== null) {
        raised.push({
          instanceId: decodeURIComponent(match[1]!),
          eventName: decodeURIComponent(match[2]!),
          body: body === '' ? undefined : (JSON.parse(body) as unknown),
        });
        res.writeHead(202).end();
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runtime/webhooks/durabletask/`;
  return {
    url,
    raised,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What entity invocations logged (`level: message`), in order; tests may clear it. */
export const entityLogs: string[] = [];

/** An invocation context whose durable client binding points at `api` (what the host would bind). */
export function entityInvocationContext(api: FakeDurableApi | undefined): InvocationContext {
  const clientInput = df.input.durableClient();
  const context = new InvocationContext({
    functionName: CAPACITY_LEDGER_ENTITY,
    invocationId: 'entity-batch',
    options: { trigger: { name: 'context', type: 'entityTrigger' }, extraInputs: [clientInput], extraOutputs: [] },
    logHandler: (level, ...args) => entityLogs.push(`${level}: ${args.map(String).join(' ')}`),
  });
  if (api !== undefined)
    context.extraInputs.set(clientInput, {
      taskHubName: 'TestHub',
      creationUrls: {},
      managementUrls: {},
      baseUrl: api.url,
      requiredQueryStringParameters: '',
      rpcBaseUrl: api.url,
    });
  return context;
}

/**
 * Runs one batch of operations through the entity function as the Durable extension delivers it
 * (`DurableEntityBindingInfo`): the SDK's own entity engine runs each operation in order on the state.
 */
export async function runEntityBatch(
  handler: (...args: unknown[]) => unknown,
  state: PoolLedger | undefined,
  operations: ReadonlyArray<readonly [string, unknown]>,
  api?: FakeDurableApi,
  key = 'gpt-4o',
): Promise<EntityBatchResult> {
  const trigger = {
    self: { name: CAPACITY_LEDGER_ENTITY, key },
    exists: state !== undefined,
    state: state === undefined ? undefined : JSON.stringify(state),
    batch: operations.map(([name, input], i) => ({
      name,
      signal: false,
      input: input === undefined ? undefined : JSON.stringify(input),
      id: `op-${i}`,
    })),
  };
  return (await handler(trigger, entityInvocationContext(api))) as EntityBatchResult;
}

/** The results of a batch, parsed. */
export function batchResults(result: EntityBatchResult): unknown[] {
  return result.results.map((x) => (x.result === undefined ? undefined : (JSON.parse(x.result) as unknown)));
}

/** The state a batch left, parsed. */
export function batchState(result: EntityBatchResult): PoolLedger {
  return JSON.parse(result.entityState!) as PoolLedger;
}
