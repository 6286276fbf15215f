import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const spillDir = mkdtempSync(join(tmpdir(), 'gw-spill-'));
    const { runtime } = createAzureRuntime({
      config: config.config,
      env: { AzureWebJobsStorage: requireAzurite().connectionString },
      stores: 'azurite',
      // Azurite refuses this table name (400), as a real account refuses a write it cannot take.
      names: { usageTable: 'not-a-valid-table-name' },
      log: (text) => logged(text),
      spillDirectories: [spillDir],
    });
    try {
      const answer = await runtime.gateway.handle(new Request('http://gateway.test/v1/nowhere'));
      expect(answer.status).toBe(404);
      // The ledger writes in the background (every second); its failure reaches the log, not App Insights.
      const entry = JSON.parse(await line) as Record<string, unknown>;
      expect(entry).toMatchObject({ kind: 'background-write-failed', write: 'usage-ledger', count: 1 });
      expect(runtime.backgroundWrites.counts()).toEqual({ 'usage-ledger': 1 });
      // Its last flush fails too: the record goes to the spill file in the folder given, not the checkout.
      await runtime.close().catch((error: unknown) => error);
      const spilled = readFileSync(join(spillDir, 'gateway-usage-spill.ndjson'), 'utf8').trim().split('\n');
      expect(spilled.map((l) => (JSON.parse(l) as { httpStatus: number }).httpStatus)).toEqual([404]);
    } finally {
      await runtime.close().catch((error: unknown) => error);
      rmSync(spillDir, { recursive: true, force: true });
    }
  });
});
