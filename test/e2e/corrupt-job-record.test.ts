import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableClient } from '@azure/data-tables';
import { validateConfig } from '../../shared/config/load-config.js';
import { createAzureRuntime } from '../../shared/composition/create-azure-runtime.js';
import type { GatewayRuntime } from '../../shared/composition/create-runtime.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { JOB_ROW_KEY } from '../../shared/adapters/azure/table-job-store.js';
import { requireAzurite, uniqueTableName } from '../../shared/adapters/azure/test-support/azurite.js';
import { startNodeHost, type NodeHost } from '../../shared/standalone/node-host.js';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { postJson } from '../support/gateway-harness.js';

const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-0123456789';
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

interface Envelope {
  readonly error: { readonly code: string; readonly message: string };
}

/** A corrupt job record in Table storage, seen through the HTTP surface (issue 13 item 17, ADR 0039). */
describe('a corrupt job record, through HTTP on the Azure stores (Azurite)', () => {
  const jobsTable = uniqueTableName('jobs');
  const logged: string[] = [];
  let sim: RunningSimulator;
  let runtime: GatewayRuntime;
  let host: NodeHost;

  beforeAll(async () => {
    sim = await startSimulator({ name: 'a', port: 0 });
    const config = validateConfig({
      backends: [{ id: 'a', url: sim.url, kind: 'openai' }],
      pools: [{ id: 'main', backends: ['a'] }],
      routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
      governance: {
        identity: {
          apiKeys: {
            enabled: true,
            keys: [
              { id: 'alice', sha256: hashApiKey(ALICE), profile: 'batch', userId: 'alice' },
              { id: 'bob', sha256: hashApiKey(BOB), profile: 'batch', userId: 'bob' },
            ],
          },
        },
        profiles: [{ id: 'batch', async: { allowed: true } }],
      },
      async: { syncWaitMs: 30_000 },
      usage: { ledger: { kind: 'memory' } },
    });
    if (!config.ok) throw new Error(config.issues.join('\n'));
    ({ runtime } = createAzureRuntime({
      config: config.config,
      env: { AzureWebJobsStorage: requireAzurite().connectionString },
      stores: 'azurite',
      names: {
        jobsTable,
        healthTable: uniqueTableName('health'),
        quotaTable: uniqueTableName('quota'),
        affinityTable: uniqueTableName('affinity'),
        capacityTable: uniqueTableName('capacity'),
        payloadContainer: `payloads-${uniqueTableName('c').toLowerCase()}`,
      },
      log: (line) => logged.push(line),
    }));
    host = await startNodeHost(runtime.gateway, { port: 0 });
  }, 60_000);

  afterAll(async () => {
    await host?.close();
    await runtime?.close();
    await sim?.close();
  });

  const get = (path: string, key: string, method = 'GET') =>
    fetch(`${host.url}${path}`, { method, headers: { 'api-key': key } });

  /** Submits an async job; the sync wait outlasts it, so it has finished when its answer arrives. */
  async function finishedJob(): Promise<string> {
    const answer = await postJson(`${host.url}/v1/chat/completions`, chat, {
      'api-key': ALICE,
      'x-gateway-async': 'true',
    });
    expect(answer.status).toBe(200);
    await answer.arrayBuffer();
    return `/jobs/${answer.headers.get('x-gateway-job-id')!}`;
  }

  it('answers the owner 410 GW_ERR_JOB_RECORD_UNREADABLE, others 404; counted, logged; others served', async () => {
    const location = await finishedJob();
    const jobId = location.split('/').pop()!;
    // Corrupt the stored record with the SDK, as a hand edit or a broken writer would.
    const table = TableClient.fromConnectionString(requireAzurite().connectionString, jobsTable, {
      allowInsecureConnection: true,
    });
    const entity = await table.getEntity<{ job: string }>(jobId, JOB_ROW_KEY);
    const stored = JSON.parse(entity.job) as Record<string, unknown>;
    await table.updateEntity(
      { partitionKey: jobId, rowKey: JOB_ROW_KEY, job: JSON.stringify({ ...stored, response: { status: '200' } }) },
      'Merge',
    );

    for (const [path, method] of [
      [location, 'GET'],
      [`${location}/result`, 'GET'],
      [location, 'DELETE'],
    ] as const) {
      const answer = await get(path, ALICE, method);
      expect(answer.status, `${method} ${path}`).toBe(410);
      expect(answer.headers.get('x-gateway-error-code')).toBe('GW_ERR_JOB_RECORD_UNREADABLE');
      const body = (await answer.json()) as Envelope;
      expect(body.error.code).toBe('GW_ERR_JOB_RECORD_UNREADABLE');
      // Where it lives is for operators, never in the answer.
      expect(JSON.stringify(body)).not.toContain(jobsTable);
    }
    const other = await get(location, BOB);
    expect(other.status).toBe(404);
    expect(((await other.json()) as Envelope).error.code).toBe('GW_ERR_JOB_NOT_FOUND');

    // The process is healthy and other calls are served.
    expect((await fetch(`${host.url}/health/live`)).status).toBe(200);
    const served = await postJson(`${host.url}/v1/chat/completions`, chat, { 'api-key': ALICE });
    expect(served.status).toBe(200);

    expect(runtime.corruptReads.counts()).toEqual({ jobs: 4 });
    const lines = logged.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l) => l['kind'] === 'corrupt-stored-record')).toHaveLength(4);
    expect(lines[0]).toMatchObject({
      kind: 'corrupt-stored-record',
      store: 'jobs',
      location: jobsTable,
      key: `PartitionKey=${jobId} RowKey=${JOB_ROW_KEY}`,
      problem:
        'response.status: Invalid input: expected number, received string; ' +
        'response.headers: Invalid input: expected record, received undefined; ' +
        'response.bytes: Invalid input: expected number, received undefined',
      count: 1,
    });
  }, 60_000);
});
