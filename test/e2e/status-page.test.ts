import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_PAGE_PATH } from '../../shared/core/admin/admin-api.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { openBrowser } from '../support/browser.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

const ADMIN_KEY = 'status-page-admin-key';
const chat = (user: string) => ({ model: 'gpt-4o-mini', user, messages: [{ role: 'user', content: 'Hello' }] });

describe('the status page in a real headless Chromium', () => {
  let h: Harness;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  beforeAll(async () => {
    h = await startHarness({
      runtime: { statusLedgerMaxAgeMs: 200 },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: { anonymous: { allowed: true } },
            admin: { keys: [{ id: 'ops', sha256: hashApiKey(ADMIN_KEY) }] },
          },
          resilience: { breaker: { failureThreshold: 2, minimumRequests: 2 }, retry: { maxAttempts: 2 } },
          usage: { prices: { 'gpt-4o-mini': { inputPer1k: 0.00015, outputPer1k: 0.0006 } } },
        }),
    });
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('refuses without the admin key: the page shows no data and says why', async () => {
    const page = await browser.context.newPage();
    await page.goto(h.url + STATUS_PAGE_PATH);
    await expect.poll(() => page.isVisible('#login')).toBe(true);
    expect(await page.isVisible('#board')).toBe(false);
    await page.fill('#key', 'not-the-key');
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('#refused')).toContain('Refused (401)');
    expect(await page.isVisible('#board')).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    const direct = await fetch(h.url + STATUS_PAGE_PATH.replace(/page$/, 'live'));
    expect([401, 403]).toContain(direct.status);
    await page.close();
  });

  it("shows a failing backend's breaker open and the traffic moving to the other backend", async () => {
    const page = await browser.context.newPage();
    await page.goto(h.url + STATUS_PAGE_PATH);
    await page.fill('#key', ADMIN_KEY);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#board:not([hidden])');
    expect(page.url()).not.toContain(ADMIN_KEY);
    expect(await page.evaluate(() => sessionStorage.getItem('gateway-admin-key'))).toBe(ADMIN_KEY);
    await page.waitForSelector('tr[data-backend="a"] [data-state="closed"]');

    for (let i = 0; i < 4; i++)
      expect((await postJson(`${h.url}/v1/chat/completions`, chat(`u${i % 2}`))).status).toBe(200);
    h.sims.a!.configure({ faults: ['503'] });
    const servedBy: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await postJson(`${h.url}/v1/chat/completions`, chat('alice'));
      expect(res.status).toBe(200);
      servedBy.push(res.headers.get('x-gateway-backend') ?? '');
      await res.arrayBuffer();
    }
    expect(servedBy.slice(-6)).toEqual(new Array(6).fill('b'));

    await page.waitForSelector('tr[data-backend="a"] [data-state="open"]', { timeout: 10_000 });
    const cells = (id: string): Promise<string[]> =>
      page.$$eval(`tr[data-backend="${id}"] td`, (tds) => tds.map((td) => td.textContent ?? ''));
    const attempts = (row: string[]): number => Number(/ of (\d+)/.exec(row[7] ?? '')?.[1] ?? 0);
    // The page refreshes every second: wait until it shows every call made above.
    await expect
      .poll(async () => attempts(await cells('b')) - attempts(await cells('a')), { timeout: 10_000 })
      .toBeGreaterThan(0);
    const [rowA, rowB] = [await cells('a'), await cells('b')];
    expect(rowA[3]).toMatch(/^open until /);
    expect(rowA[8]).toMatch(/^503 at /);
    expect(rowB[3]).toBe('closed');
    await expect.poll(() => page.textContent('#transitions')).toContain('open');
    expect(await page.textContent('#tokens-model')).toContain('gpt-4o-mini');
    await expect.poll(() => page.textContent('#today-models'), { timeout: 10_000 }).toContain('gpt-4o-mini');
    expect(await page.textContent('#today-callers')).toMatch(/TOTAL\d+/);

    const html = await page.content();
    expect(html).not.toContain(ADMIN_KEY);
    expect(html).not.toContain(h.sims.a!.url);
    expect(html).not.toContain('Hello');
    const dir = process.env['GATEWAY_SCREENSHOT_DIR'] ?? mkdtempSync(join(tmpdir(), 'status-page-'));
    await page.screenshot({ path: join(dir, 'status-page.png'), fullPage: true });
    await page.close();
  });
});
