import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateHostConfig } from '../../shared/config/host-validation.js';
import type { ConfigResult } from '../../shared/config/load-config.js';
import { REPO_ROOT, ensureBuilt } from '../support/built-dist.js';

const MAIN = join(REPO_ROOT, 'dist/shared/standalone/main.js');
const GOOD = {
  server: { host: '127.0.0.1', port: 0 },
  backends: [{ id: 'b', url: 'http://127.0.0.1:9' }],
  pools: [{ id: 'p', backends: ['b'] }],
  routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
  governance: { identity: { anonymous: { allowed: true } } },
};
const BAD = { ...GOOD, server: { host: '127.0.0.1', prot: 8080 }, pools: [{ id: 'p', backends: ['c'] }] };
const ENV = { GATEWAY_LIMITS__MAX_BODY_BYTES: 'many', GATEWAY_URL: 'https://elsewhere' };

/**
 * The modules the serving process loads, written at exit (`module.registerHooks`, Node ≥ 22.15; older Node lists
 * nothing). The validation child gets neither the preload nor the environment, so what it loads is not listed.
 */
// A namespace import: a named import of `registerHooks` is a SyntaxError on Node 20, which lacks it.
const HOOK = `import * as m from 'node:module'; import { writeFileSync } from 'node:fs';
const seen = []; m.registerHooks?.({ load(url, context, next) { seen.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.MODULES_OUT, JSON.stringify(seen)));
process.on('exit', () => writeFileSync(process.env.BUILTINS_OUT, JSON.stringify(process.moduleLoadList)));
let threads = 0; process.on('worker', () => threads++);
process.on('exit', () => writeFileSync(process.env.THREADS_OUT, String(threads)));`;

/** Resolves with the output once it matches `pattern` (an event to await, not a sleep). */
function waitFor(read: () => string, child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!pattern.test(read())) return;
      child.stdout?.off('data', check);
      child.off('exit', exited);
      resolve();
    };
    const exited = (): void => reject(new Error(`exited before ${pattern}:\n${read()}`));
    child.stdout?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

/**
 * ADRs 0050, 0087: the standalone host, built and run as `npm start` runs it, validates each configuration in a
 * child process. Its answers are the in-process validator's, word for word, at start and on reload, the serving
 * process never loads zod, and no validation thread runs in it.
 */
describe('standalone host validating its configuration in a child process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-child-'));
  const hook = join(dir, 'hook.mjs');
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GATEWAY_')));
  const modulesOut = join(dir, 'modules.json');
  const builtinsOut = join(dir, 'builtins.json');
  const threadsOut = join(dir, 'threads.txt');
  const run = (file: string, env: Record<string, string>): ChildProcess =>
    spawn(process.execPath, ['--import', pathToFileURL(hook).href, MAIN], {
      cwd: dir,
      env: {
        ...inherited,
        ...env,
        GATEWAY_CONFIG_FILE: file,
        ...{ MODULES_OUT: modulesOut, BUILTINS_OUT: builtinsOut, THREADS_OUT: threadsOut },
      },
    });

  beforeAll(async () => {
    await ensureBuilt('dist/shared/standalone/main.js');
    writeFileSync(hook, HOOK);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs the built child-process validator as `validate` says and answers its result with the process warnings it
   * emitted (on the next tick, after it settled).
   */
  async function withWarnings(
    validate: (validators: typeof import('../../shared/config/host-validators.js')) => Promise<ConfigResult>,
  ): Promise<{ result: ConfigResult; warnings: string }> {
    const built = pathToFileURL(join(REPO_ROOT, 'dist/shared/config/host-validators.js')).href;
    const validators = (await import(built)) as typeof import('../../shared/config/host-validators.js');
    const warnings: string[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const result = await validate(validators);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      return { result, warnings: warnings.join('\n') };
    } finally {
      process.off('warning', onWarning);
    }
  }

  it('validates in this thread, with a warning, when the child does not answer in time', async () => {
    // No process starts, loads zod and answers within 0 ms: the time limit kills it and the fallback answers.
    const { result, warnings } = await withWarnings((v) => v.validateInChildProcessWithin(0, BAD, {}));
    expect(result).toEqual(validateHostConfig(BAD, {}));
    expect(warnings).toContain('did not answer within 0 ms');
  });

  it('validates in this thread, with a warning, when the child process cannot be started', async () => {
    // A `node` that is not there fails the spawn as a refused fork does (EACCES, EAGAIN): the spawn's error and the
    // message written to the dead channel are both reported as 'error' events; neither may be thrown.
    const noNode = join(dir, 'no-such-node');
    const { result, warnings } = await withWarnings((v) => v.validateInChildProcessWithin(30_000, BAD, {}, noNode));
    expect(result).toEqual(validateHostConfig(BAD, {}));
    expect(warnings).toContain('the child process failed (spawn');
  });

  it('refuses a bad configuration at start with the problems the in-process validation names', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(BAD));
    const child = run(file, ENV);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const expected = validateHostConfig(BAD, ENV);
    expect(expected.ok).toBe(false);
    expect(code).toBe(1);
    for (const issue of expected.ok ? [] : expected.issues) expect(stderr).toContain(`  - ${issue}\n`);
    // The ignored variable is reported once, by the serving process, not again by the child.
    expect(stderr.match(/GATEWAY_URL is ignored/g)).toHaveLength(1);
  });

  // ADR 0079: nor HTTP/2 and TLS (undici's h2 connector is deferred; the backend here is plain HTTP), nor Node's
  // own undici (loaded by any touch of the global Headers, Request, Response or fetch).
  it('serves good config, refuses a bad reload, applies a good one; no zod, not all undici, no http2', async () => {
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, JSON.stringify(GOOD));
    const child = run(file, {});
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(() => stdout, child, /gateway listening on/);
    writeFileSync(file, JSON.stringify(BAD));
    await waitFor(() => stdout, child, /reload from .* refused/);
    const expected = validateHostConfig(BAD, {});
    for (const issue of expected.ok ? [] : expected.issues) expect(stdout).toContain(`  - ${issue}\n`);
    writeFileSync(file, JSON.stringify({ ...GOOD, limits: { maxBodyBytes: 1024 } }));
    await waitFor(() => stdout, child, /configuration reloaded from/);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    // ADR 0087: three validations (start, two reloads), each in a child process — none fell back to this
    // process, and no validation thread ever ran in it (its allocator arena and compiled code would stay).
    expect(stderr).not.toContain('GATEWAY_CONFIG_WORKER');
    expect(readFileSync(threadsOut, 'utf8')).toBe('0');
    const builtins = JSON.parse(readFileSync(builtinsOut, 'utf8')) as string[];
    expect(builtins).toContain('NativeModule http');
    expect(builtins.filter((m) => /^NativeModule (http2|tls|internal\/deps\/undici\/)/.test(m))).toEqual([]);
    const modules = JSON.parse(readFileSync(modulesOut, 'utf8')) as string[];
    if (modules.length === 0) return; // Node without module.registerHooks: the load hook saw nothing.
    expect(modules.some((url) => url.includes('/shared/standalone/node-host.js'))).toBe(true);
    expect(modules.filter((url) => /node_modules\/zod\/|\/shared\/config\/load-config\.js/.test(url))).toEqual([]);
    // Only undici's pool, agent and errors (ADR 0056): its package entry would load fetch, WebSocket, caches…
    expect(modules.some((url) => url.endsWith('/node_modules/undici/lib/dispatcher/pool.js'))).toBe(true);
    expect(modules.filter((url) => /node_modules\/undici\/(index\.js|lib\/web\/)/.test(url))).toEqual([]);
  });
});
