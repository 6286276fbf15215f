import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The folder dependency rule of ARCHITECTURE.md §3, enforced by ESLint: shared/core is web-standard and
 * imports no Azure SDK, no Functions package, no npm package, no adapter, and reads neither
 * process.env nor the global clock.
 */
describe('the dependency rule (eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
  const lint = async (filePath: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath });
    return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
  };

  it.each([
    ["import { TableClient } from '@azure/data-tables';"],
    ["import { app } from '@azure/functions';"],
    ["import * as df from 'durable-functions';"],
    ["import { request } from 'undici';"],
    ["import { createMemoryUsageLedger } from '../adapters/memory/memory-usage-ledger.js';"],
  ])('fails shared/core for %s', async (line) => {
    expect(await lint('shared/core/example.ts', `${line}\nexport const x = 1;\n`)).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
  });

  it('fails shared/core for process.env and Date.now()', async () => {
    const rules = await lint(
      'shared/core/example.ts',
      'export const a = process.env.X;\nexport const b = Date.now();\n',
    );
    expect(rules.filter((r) => r === 'no-restricted-properties')).toHaveLength(2);
  });

  it('lets shared/core import config types and other core modules', async () => {
    expect(
      await lint(
        'shared/core/example.ts',
        "import type { GatewayConfig } from '../config/gateway-schema.js';\nimport { GatewayError } from " +
          "'./errors/gateway-error.js';\nexport type C = GatewayConfig;\nexport const e = GatewayError;\n",
      ),
    ).toEqual([]);
  });

  it('lets adapters use the Azure SDK, and keeps Functions packages out of shared/', async () => {
    expect(
      await lint(
        'shared/adapters/azure/example.ts',
        "import { TableClient } from '@azure/data-tables';\nexport const t = TableClient;\n",
      ),
    ).toEqual([]);
    expect(
      await lint('shared/composition/example.ts', "import { app } from '@azure/functions';\nexport const a = app;\n"),
    ).toContain('no-restricted-imports');
  });
});
