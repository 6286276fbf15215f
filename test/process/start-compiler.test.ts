import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/built-dist.js';
import { buildHost, HOST_ENTRY, startHostProcess } from '../support/host-process.js';

/**
 * A preload that asks V8 to optimise a small function and reports whether it was (V8's own test intrinsics, under
 * `--allow-natives-syntax`; status bit 16 is "optimised"): once while the host's modules load (a load hook, Node ≥
 * 22.15), once when SIGUSR2 arrives after the host listens. And a function made hot while the modules load — as
 * Node's resolver is — must be optimised by V8's own tiering, unforced, once the host listens: the hold leaves no
 * mark on it (a bounded number of rounds of calls, each followed by a turn of the event loop so that a concurrent
 * compilation can be installed).
 */
const PROBE = `import * as m from 'node:module';
const optimised = (f) => (%GetOptimizationStatus(f) & 16) !== 0;
const probe = () => new Function(\`function f(x) { return x * 2 + 1; }
  %PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3);
  return (%GetOptimizationStatus(f) & 16) !== 0;\`)();
const hot = new Function('n', 'let s = 0; for (let i = 0; i < n; i++) s += i * 2; return s;');
const round = () => { for (let i = 0; i < 2000; i++) hot(500); };
let loading = 'not probed';
let hotWhileLoading = 'not probed';
m.registerHooks({ load(url, context, next) {
  if (url.endsWith('/shared/standalone/node-host.js')) {
    loading = probe();
    for (let i = 0; i < 20; i++) round();
    hotWhileLoading = optimised(hot);
  }
  return next(url, context);
} });
async function tiersUp() {
  for (let i = 0; i < 200 && !optimised(hot); i++) { round(); await new Promise((r) => setImmediate(r)); }
  return optimised(hot);
}
process.on('SIGUSR2', async () => process.stdout.write(\`optimised while loading: \${loading}; \` +
  \`listening: \${probe()}; hot while loading: \${hotWhileLoading}, then: \${await tiersUp()}\\n\`));`;

const hooks = typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function';

/**
 * ADR 0088: the built host holds V8's optimising compiler off while its modules load (so resolving them pages none
 * of the compiler's code in) and has it back once it listens, before it serves a call.
 */
describe.runIf(hooks)('standalone host: the optimising compiler held off during start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-start-compiler-'));
  const probe = join(dir, 'probe.mjs');
  const config = join(dir, 'gateway.config.json');

  beforeAll(async () => {
    await buildHost();
    writeFileSync(probe, PROBE);
    writeFileSync(
      config,
      JSON.stringify({
        server: { host: '127.0.0.1', port: 0 },
        backends: [{ id: 'b', url: 'http://127.0.0.1:9' }],
        pools: [{ id: 'p', backends: ['b'] }],
        routes: [{ id: 'r', match: { models: ['*'] }, pool: 'p' }],
        governance: { identity: { anonymous: { allowed: true } } },
      }),
    );
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('optimises nothing while the modules load and optimises again once listening', async () => {
    const flags = ['--allow-natives-syntax', '--import', pathToFileURL(probe).href, join(REPO_ROOT, HOST_ENTRY)];
    const host = startHostProcess(flags, { GATEWAY_CONFIG_FILE: config }, dir, process.execPath);
    try {
      await host.waitFor(/gateway listening on/);
      host.child.kill('SIGUSR2');
      const [line] = await host.waitFor(/optimised while loading: .*\n/);
      expect(line).toBe('optimised while loading: false; listening: true; hot while loading: false, then: true\n');
    } finally {
      await host.stop();
    }
  });
});
