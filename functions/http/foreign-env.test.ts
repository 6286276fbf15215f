import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFunctionsHost, setFunctionsHost, type FunctionsHost } from '../bridge/runtime.js';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { proxy } from './proxy.js';

/** An app setting that another tool reads (`GATEWAY_URL`…) must not stop the gateway from starting. */
describe('GATEWAY_* settings that are not configuration', () => {
  let host: FunctionsHost | undefined;
  let sim: RunningSimulator | undefined;
  afterEach(async () => {
    setFunctionsHost(undefined);
    await host?.runtime.close();
    await sim?.close();
  });

  it('serves calls with GATEWAY_URL and GATEWAY_TOKEN set, warning once that they are ignored', async () => {
    sim = await startSimulator({ name: 'sim', port: 0 });
    const file = join(mkdtempSync(join(tmpdir(), 'gw-fn-')), 'gateway.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        backends: [{ id: 'sim', url: sim.url }],
        pools: [{ id: 'main', backends: ['sim'] }],
        routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
        governance: { identity: { anonymous: { allowed: true } } },
      }),
    );
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      host = await buildFunctionsHost({
        GATEWAY_CONFIG_FILE: file,
        GATEWAY_URL: 'https://gateway.example/for-another-tool',
        GATEWAY_TOKEN: 'not-ours',
        GATEWAY_FUNCTIONS__STORES: 'memory',
        GATEWAY_FUNCTIONS__DURABLE_JOBS: 'false',
      });
      // process warnings are emitted on the next tick
      await new Promise((resolve) => process.nextTick(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    setFunctionsHost(host);
    const init = await proxy(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) },
      }),
      new InvocationContext({ functionName: 'proxy', invocationId: 'env' }),
    );
    expect(init.status).toBe(200);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GATEWAY_URL is ignored/),
        expect.stringMatching(/^GATEWAY_TOKEN is ignored/),
      ]),
    );
  });
});
