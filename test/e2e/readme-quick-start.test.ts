import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load-config.js';
import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { checkIdentityConfig } from '../../shared/core/governance/check-identity-config.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { embeddedDefaults } from '../../shared/standalone/embedded-defaults.js';
import { completionText } from '../../simulator/token-count.js';
import { postJson, startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * What the README promises a newcomer, run as written: the SDK snippet (extracted from README.md and run
 * by `node` as the `.mjs` file it says to save) against the standalone host on its embedded defaults; the
 * README's `curl` with the shipped `gateway.config.example.json` and its key; `npm run key` (its key and
 * `sha256` entry accepted by a running gateway); the files the README says are git-ignored.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXAMPLE_FILE = join(ROOT, 'gateway.config.example.json');
const run = promisify(execFile);

/** The ```js block of README's "Call it" section that imports `openai`. */
function readmeSnippet(): string {
  const section = README.slice(README.indexOf('\n## Call it\n'));
  const block = /```js\n([\s\S]*?)\n```/.exec(section);
  if (block === null || !block[1]!.includes("from 'openai'")) throw new Error('README has no openai ```js block');
  return block[1]!;
}

/** The example configuration with its simulator backend (`127.0.0.1:8081`) pointed at the test's. */
function exampleConfig(urls: Record<string, string>): GatewayConfigInput {
  const config = JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as GatewayConfigInput;
  for (const backend of config.backends ?? []) backend.url = backend.url.replace('http://127.0.0.1:8081', urls.sim!);
  return config;
}

describe("the README's quick start, as written", () => {
  let h: Harness | undefined;
  const scratch: string[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the SDK snippet as hello.mjs against the standalone host on its embedded defaults', async () => {
    h = await startHarness({
      simulators: { a: {}, b: {} },
      config: (urls) => embeddedDefaults(Object.values(urls), 0),
    });
    // Saved inside the repository, as the README says, so that `openai` resolves from its node_modules.
    const cache = join(ROOT, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'readme-snippet-'));
    scratch.push(dir);
    const file = join(dir, 'hello.mjs');
    const snippet = readmeSnippet();
    expect(snippet).toContain('http://localhost:8000');
    writeFileSync(file, snippet.replaceAll('http://localhost:8000', h.url));
    const { stdout, stderr } = await run(process.execPath, [file], { cwd: dir, timeout: 20_000 });
    expect(stderr).toBe('');
    // console.log(text, usage) prints the text and then the usage object; the Azure flavour prints its text.
    expect(stdout.startsWith(`${completionText(16)} {`)).toBe(true);
    expect(stdout).toMatch(/total_tokens: \d+/);
    expect(stdout.trim().split('\n').at(-1)).toBe(completionText(16));
    expect(h.calls.map((c) => c.status)).toEqual([200, 200]);
  });

  it('serves the README curl with the example configuration and its key (test/docs validates the file)', async () => {
    const result = validateConfig(JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')));
    if (!result.ok) throw new Error(result.issues.join('\n'));
    // Safe to run with server.mode "production" too: an identity mode is on.
    expect(checkIdentityConfig(result.config.governance, 'production')).toBeUndefined();
    const curl = /curl -s http:\/\/localhost:8000(\S+) -H 'api-key: (\S+)' \\\n\s+-H '[^']+' -d '([^']+)'/.exec(README);
    expect(curl).not.toBeNull();
    const [, path, key, body] = curl!;
    h = await startHarness({ simulators: { sim: {} }, config: exampleConfig });
    const ok = await postJson(`${h.url}${path!}`, JSON.parse(body!), { 'api-key': key! });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(
      completionText(16),
    );
    expect((await postJson(`${h.url}${path!}`, JSON.parse(body!))).status).toBe(401);
  });

  it('prints a new key with `npm run key` whose entry a running gateway accepts', async () => {
    const { stdout } = await run(
      'npm',
      ['run', '--silent', 'key', '--', '--json', '--id', 'team-a', '--profile', 'p'],
      {
        cwd: ROOT,
        timeout: 30_000,
      },
    );
    const printed = JSON.parse(stdout) as { key: string; sha256: string; entry: object; path: string };
    expect(printed.key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43}$/);
    expect(printed.sha256).toBe(hashApiKey(printed.key));
    expect(printed.path).toBe('governance.identity.apiKeys.keys');
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) => ({
        backends: [{ id: 'a', url: urls.a! }],
        pools: [{ id: 'main', backends: ['a'] }],
        routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
        governance: {
          identity: { apiKeys: { enabled: true, keys: [printed.entry as never] } },
          profiles: [{ id: 'p' }],
        },
      }),
    });
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] };
    const answer = await postJson(`${h.url}/v1/chat/completions`, chat, { authorization: `Bearer ${printed.key}` });
    expect(answer.status).toBe(200);
    expect(h.calls.at(-1)?.caller?.userId).toBe('key:team-a');

    const admin = await run(process.execPath, [join(ROOT, 'scripts', 'key.mjs'), '--admin', '--id', 'ops'], {
      timeout: 30_000,
    });
    const key = /^\s+(sk-gw-admin-\S+)$/m.exec(admin.stdout)?.[1];
    expect(key).toBeDefined();
    expect(admin.stdout).toContain(`{"id":"ops","sha256":"${hashApiKey(key!)}"}`);
    expect(admin.stdout).toContain(`sha256 = ${hashApiKey(key!)}`);
  });

  it('refuses a bad argument to `npm run key` with the usage and exit status 2', async () => {
    const failed = await run(process.execPath, [join(ROOT, 'scripts', 'key.mjs'), '--id', 'no spaces']).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/--id "no spaces" is not an id/);
  });

  it('keeps the files that hold local secrets out of git', () => {
    const ignored = readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['gateway.config.json', 'local.settings.json']));
  });
});
