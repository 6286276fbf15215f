import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTableUsageLedger } from '../adapters/azure/table-usage-ledger.js';
import { createTableFixture, requireAzurite } from '../adapters/azure/test-support/azurite.js';
import { ndjson, usageRecordAt } from '../../test/support/usage-records.js';
import { DEFAULT_AZURE_RESOURCE_NAMES } from '../composition/create-azure-runtime.js';
import { runUsageCli } from './usage-cli.js';
import { DEFAULT_USAGE_TABLE } from './usage/usage-source.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function workspace(): { dir: string; file(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'usage-cli-'));
  dirs.push(dir);
  return {
    dir,
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runUsageCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env, nowMs: NOW });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run usage', () => {
  it('without --from/--to covers the last 24 hours, like the admin API (not a usage dump and exit 2)', async () => {
    const ws = workspace();
    const ledger = ws.file(
      'ledger.ndjson',
      ndjson([
        usageRecordAt('2026-11-30T11:59:59Z', { user: 'old' }),
        usageRecordAt('2026-11-30T12:00:00Z', { user: 'alice' }),
        usageRecordAt('2026-12-01T11:00:00Z', { user: 'bob' }),
      ]),
    );
    const r = await run(['--by', 'user', '--file', ledger]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage 2026-11-30T12:00:00.000Z .. 2026-12-01T12:00:00.000Z (to exclusive) by user');
    expect(r.out).toMatch(/^alice +1 +100/m);
    expect(r.out).toMatch(/^bob +1 +100/m);
    expect(r.out).not.toContain('old');
    expect(r.out).toMatch(/^TOTAL +2 +200 +0 +20 +220 +0$/m);
  });

  it('takes a date-only --to as exclusive: a month is from the 1st to the next 1st', async () => {
    const ws = workspace();
    const ledger = ws.file(
      'ledger.ndjson',
      ndjson([
        usageRecordAt('2026-10-31T23:59:59Z', { user: 'october' }),
        usageRecordAt('2026-11-01T00:00:00Z', { user: 'first' }),
        usageRecordAt('2026-11-30T23:59:59Z', { user: 'last' }),
        usageRecordAt('2026-12-01T00:00:00Z', { user: 'december' }),
      ]),
    );
    const r = await run(['--from', '2026-11-01', '--to', '2026-12-01', '--file', ledger, '--format', 'json']);
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.out) as { from: string; to: string; rows: { key: string }[] };
    expect(answer.rows.map((row) => row.key)).toEqual(['first', 'last']);
    expect(answer.to).toBe('2026-12-01T00:00:00.000Z');
  });

  it.each([
    [['--by', 'nobody'], '--by must be one of user, tier, model, backend, group, profile, app, not "nobody".'],
    [['--from', '2026-13-01'], '--from must be a UTC date (YYYY-MM-DD) or an ISO 8601 timestamp'],
    [['--from', '2026-12-01', '--to', '2026-11-01'], 'must be before to'],
    [['--format', 'xml'], '--format must be one of table, csv, json, not "xml".'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--storage', 'file', '--table', 'T'], '--table names the Table ledger'],
    [['--config', '/nonexistent/gateway.config.json'], '--config /nonexistent/gateway.config.json cannot be read'],
  ])('refuses %j with exit 2 and one sentence naming the argument', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain('npm run usage -- --help');
    expect(r.err).not.toContain('Usage: npm run usage');
    expect(r.out).toBe('');
  });

  it('marks rows without a price "unpriced" (never 0.000000) and names the currency', async () => {
    const ws = workspace();
    const config = ws.file(
      'gateway.config.json',
      JSON.stringify({
        usage: { currency: 'EUR', prices: { 'gpt-4o': { inputPer1k: 0.0025, outputPer1k: 0.01 } } },
      }),
    );
    const ledger = ws.file(
      'ledger.ndjson',
      ndjson([
        usageRecordAt('2026-12-01T10:00:00Z', { user: 'alice', model: 'gpt-4o', prompt: 1000, completion: 100 }),
        usageRecordAt('2026-12-01T10:01:00Z', { user: 'bob', model: 'llama-3.1-8b' }),
      ]),
    );
    const r = await run(['--by', 'model', '--file', ledger, '--config', config]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(/^model +requests .* unpriced +cost EUR$/);
    expect(r.out).toMatch(/^gpt-4o +1 .* 0 +0\.003500$/m);
    expect(r.out).toMatch(/^llama-3\.1-8b +1 .* 1 +unpriced$/m);
    expect(r.out).toMatch(/^TOTAL +2 .* 1 +0\.003500$/m);
    expect(r.out).not.toContain('0.000000');
  });

  it('prints CSV with the currency and JSON with null for an unpriced cost', async () => {
    const ws = workspace();
    ws.file(
      'gateway.config.json',
      JSON.stringify({ usage: { prices: { 'gpt-4o': { inputPer1k: 1, outputPer1k: 1 } } } }),
    );
    const ledger = ws.file(
      'ledger.ndjson',
      ndjson([usageRecordAt('2026-12-01T10:00:00Z', { user: 'a,b', model: 'other' })]),
    );
    const env = { GATEWAY_CONFIG_FILE: join(ws.dir, 'gateway.config.json') };
    const csv = await run(['--file', ledger, '--format', 'csv'], env);
    expect(csv.out.split('\r\n')).toEqual([
      'user,requests,promptTokens,cachedInputTokens,cacheCreationTokens,completionTokens,reasoningTokens,' +
        'totalTokens,estimatedRequests,unpricedRequests,cost,currency',
      '"a,b",1,100,0,0,10,0,110,0,1,unpriced,USD',
    ]);
    const json = await run(['--file', ledger, '--json'], env);
    expect(JSON.parse(json.out)).toMatchObject({ currency: 'USD', rows: [{ key: 'a,b', cost: null }] });
  });

  it('says where the missing ledger was looked for, exit 1', async () => {
    const ws = workspace();
    const r = await run(['--file', join(ws.dir, 'none.ndjson')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`No usage ledger at ${join(ws.dir, 'none.ndjson')}`);
  });
});

describe('npm run usage --storage azurite (the Table ledger)', () => {
  const { connectionString } = requireAzurite();
  const tables = createTableFixture(connectionString);
  let tableName = '';
  beforeAll(async () => {
    const client = await tables.table('UsageCli');
    tableName = client.tableName;
    const ledger = createTableUsageLedger({ client });
    await ledger.append(usageRecordAt('2026-11-15T09:00:00Z', { user: 'carol', prompt: 700, completion: 70 }));
    await ledger.append(usageRecordAt('2026-12-01T00:00:00Z', { user: 'dave' }));
    await ledger.close();
  });
  afterAll(() => tables.dispose());

  it('reads the records the gateway wrote to the Table ledger', async () => {
    const r = await run(['--storage', 'azurite', '--table', tableName, '--from', '2026-11-01', '--to', '2026-12-01'], {
      AzureWebJobsStorage: connectionString,
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`from table ${tableName} at`);
    expect(r.out).toMatch(/^carol +1 +700 +0 +70 +770 +0$/m);
    expect(r.out).not.toContain('dave');
  });

  it('reads the table the gateway writes by default', () => {
    expect(DEFAULT_USAGE_TABLE).toBe(DEFAULT_AZURE_RESOURCE_NAMES.usageTable);
  });

  it('names the missing table instead of a stack trace', async () => {
    const r = await run(['--storage', 'azurite', '--table', 'NoSuchUsageTable'], {
      AzureWebJobsStorage: connectionString,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('No usage table: table NoSuchUsageTable at');
  });
});
