import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from '../support/built-dist.js';
import { ndjson, usageRecordAt } from '../support/usage-records.js';

const ENTRY = 'dist/shared/standalone/usage-cli.js';

/** Runs `npm run --silent usage -- …` in the repository, as a user would. */
function npmUsage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'usage', '--', ...args], { cwd: REPO_ROOT }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? 1), stdout, stderr }),
    );
  });
}

describe('npm run usage, as a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'usage-process-'));
  const ledger = join(dir, 'gateway.usage.ndjson');
  beforeAll(async () => {
    await ensureBuilt(ENTRY);
    const anHourAgo = new Date(Date.now() - 3_600_000).toISOString();
    writeFileSync(ledger, ndjson([usageRecordAt(anHourAgo, { user: 'alice', prompt: 42, completion: 8 })]));
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers `--by user` with the last 24 hours, from the built output without rebuilding it', async () => {
    const builtAt = statSync(join(REPO_ROOT, ENTRY)).mtimeMs;
    const r = await npmUsage(['--by', 'user', '--file', ledger]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^alice +1 +42 +0 +8 +50 +0$/m);
    expect(r.stdout).toMatch(/^TOTAL +1 +42 +0 +8 +50 +0$/m);
    expect(statSync(join(REPO_ROOT, ENTRY)).mtimeMs).toBe(builtAt);
  });

  it('exits 2 with a sentence naming a bad argument', async () => {
    const r = await npmUsage(['--by', 'colour', '--file', ledger]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--by must be one of user, tier, model, backend, group, profile, app, not "colour".');
    expect(r.stdout).toBe('');
  });
});
