import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load-config.js';
import { requireAzurite } from '../adapters/azure/test-support/azurite.js';
import { createAzureRuntime } from './create-azure-runtime.js';

describe('createAzureRuntime without Application Insights', () => {
  it("logs the Table usage ledger's write errors and counts them", async () => {
    const config = validateConfig({ governance: { identity: { anonymous: { allowed: true } } } });
    if (!config.ok) throw new Error(config.issues.join('\n'));
    let logged: (line: string) => void = () => undefined;
    const line = new Promise<string>((resolve) => (logged = resolve));
    const { runtime } = createAzureRuntime({
      config: config.config,
      env: { AzureWebJobsStorage: requireAzurite().connectionString },
      stores: 'azurite',
      // Azurite refuses this table name (400), as a real account refuses a write it cannot take.
      names: { usageTable: 'not-a-valid-table-name' },
      log: (text) => logged(text),
    });
    try {
      const answer = await runtime.gateway.handle(new Request('http://gateway.test/v1/nowhere'));
      expect(answer.status).toBe(404);
      // The ledger writes in the background (every second); its failure reaches the log, not App Insights.
      const entry = JSON.parse(await line) as Record<string, unknown>;
      expect(entry).toMatchObject({ kind: 'background-write-failed', write: 'usage-ledger', count: 1 });
      expect(runtime.backgroundWrites.counts()).toEqual({ 'usage-ledger': 1 });
    } finally {
      await runtime.close().catch((error: unknown) => error); // its last flush fails too
    }
  });
});
