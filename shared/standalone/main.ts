import { existsSync } from 'node:fs';
import { loadConfig, validateConfig } from '../config/load-config.js';
import { createRuntime } from '../composition/create-runtime.js';
import { startNodeHost } from './node-host.js';
import { embeddedDefaults } from './embedded-defaults.js';
import { startSimulator } from '../../simulator/simulator.js';

/**
 * `npm start`: the standalone gateway. With a `gateway.config.json` (or `GATEWAY_CONFIG_FILE`) it
 * serves that configuration; without one it starts two built-in simulator backends and serves every
 * model name through them, so a newcomer can call it at once.
 */
async function main(): Promise<void> {
  const env = process.env;
  const file = env.GATEWAY_CONFIG_FILE ?? 'gateway.config.json';
  const simulators: { url: string; close(): Promise<void> }[] = [];
  let result;
  if (existsSync(file)) {
    result = loadConfig({ file, env });
  } else {
    for (const name of ['a', 'b']) simulators.push(await startSimulator({ name: `simulator-${name}`, port: 0 }));
    const port = Number(env.GATEWAY_SERVER__PORT ?? env.PORT ?? 8000);
    result = { ...validateConfig(embeddedDefaults(simulators.map((s) => s.url), port)), source: 'embedded defaults' };
  }
  if (!result.ok) {
    process.stderr.write(`gateway: refusing to start, the configuration (${result.source}) has ${result.issues.length} problem(s):\n${result.issues.map((i) => `  - ${i}`).join('\n')}\n`);
    process.exit(1);
  }
  const config = result.config;
  const runtime = createRuntime({ config, env });
  const host = await startNodeHost(runtime.gateway, { host: config.server.host, port: config.server.port, maxHeaderBytes: config.limits.maxHeaderBytes });
  const lines = [`gateway listening on ${host.url} (config: ${result.source})`];
  for (const s of simulators) lines.push(`  built-in simulator backend at ${s.url}`);
  lines.push('try:', `  curl -s ${host.url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`);
  process.stdout.write(lines.join('\n') + '\n');

  const shutdown = async (): Promise<void> => {
    await host.close();
    await runtime.close();
    await Promise.all(simulators.map((s) => s.close()));
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
