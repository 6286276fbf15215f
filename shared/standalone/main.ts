import { existsSync } from 'node:fs';
import { envOverlay, loadConfig, mergeConfig, validateConfig, type ConfigResult } from '../config/load-config.js';
import { createConfigStore } from '../config/config-store.js';
import type { GatewayConfig } from '../config/gateway-schema.js';
import { parseArgs } from 'node:util';
import { createRuntime, type GatewayRuntime } from '../composition/create-runtime.js';
import { checkIdentityConfig } from '../core/governance/check-identity-config.js';
import { createJsonFileConfigSource } from '../adapters/file/json-file-config-source.js';
import { startNodeHost } from './node-host.js';
import { embeddedDefaults } from './embedded-defaults.js';

/**
 * `npm start`: the standalone gateway. With a `gateway.config.json` (or `GATEWAY_CONFIG_FILE`) it
 * serves that configuration and reloads it when the file changes (validated and swapped atomically;
 * an invalid edit is refused and the last good configuration stays); without one it starts two
 * built-in simulator backends and serves every model name through them, so a newcomer can call it
 * at once.
 */
async function main(): Promise<void> {
  const env = process.env;
  // --storage memory (default): in-process stores. --storage azurite: Table and Blob adapters on the
  // AzureWebJobsStorage connection string (default: a local Azurite), jobs and probes in this process.
  const { values: args } = parseArgs({
    options: { storage: { type: 'string', default: 'memory' } },
    allowPositionals: false,
  });
  if (args.storage !== 'memory' && args.storage !== 'azurite')
    return refuse('command line', [`--storage must be memory or azurite, not "${args.storage}"`]);
  const file = env.GATEWAY_CONFIG_FILE ?? 'gateway.config.json';
  const simulators: { url: string; close(): Promise<void> }[] = [];
  let result: ConfigResult & { source: string };
  const fromFile = existsSync(file) || env.GATEWAY_CONFIG_FILE !== undefined;
  if (fromFile) {
    result = loadConfig({ file, env });
  } else {
    // The built-in simulators are loaded only when they run: with a config file they would cost memory for nothing.
    const { startSimulator } = await import('../../simulator/simulator.js');
    for (const name of ['a', 'b']) simulators.push(await startSimulator({ name: `simulator-${name}`, port: 0 }));
    const port = Number(env.GATEWAY_SERVER__PORT ?? env.PORT ?? 8000);
    result = {
      ...validateConfig(
        mergeConfig(
          embeddedDefaults(
            simulators.map((s) => s.url),
            port,
          ) as Record<string, unknown>,
          envOverlay(env),
        ),
      ),
      source: 'embedded defaults',
    };
  }
  if (!result.ok) return refuse(result.source, result.issues);
  const identityProblem = checkIdentityConfig(result.config.governance, result.config.server.mode);
  if (identityProblem !== undefined) return refuse(result.source, [identityProblem]);

  let current: () => GatewayConfig = (
    (c) => () =>
      c
  )(result.config);
  let stopWatching: (() => void) | undefined;
  const log = (line: string): void => void process.stdout.write(line + '\n');
  if (fromFile) {
    const store = createConfigStore({
      source: createJsonFileConfigSource({ file }),
      initial: result.config,
      validate: (raw) => {
        const next = validateConfig(mergeConfig(raw as Record<string, unknown>, envOverlay(env)));
        if (!next.ok) return next;
        const problem = checkIdentityConfig(next.config.governance, next.config.server.mode);
        return problem === undefined ? next : { ok: false, issues: [problem] };
      },
      onReload: (event) => {
        runtime.telemetry.event('ConfigReload', {
          ok: event.ok,
          source: event.source,
          issues: event.issues?.join('; '),
        });
        log(
          event.ok
            ? `gateway: configuration reloaded from ${event.source}`
            : `gateway: configuration reload from ${event.source} refused, the last good configuration stays:\n${(event.issues ?? []).map((i) => `  - ${i}`).join('\n')}`,
        );
      },
    });
    current = () => store.current();
    stopWatching = store.watch();
  }
  const config = current();
  // The Azure SDKs (and Application Insights) are loaded only when asked for: they cost tens of MB of memory.
  const runtime: GatewayRuntime =
    args.storage === 'azurite'
      ? (await import('../composition/create-azure-runtime.js')).createAzureRuntime({
          config: current,
          env,
          stores: 'azurite',
        }).runtime
      : createRuntime({ config: current, env });
  const host = await startNodeHost(runtime.gateway, {
    host: config.server.host,
    port: config.server.port,
    maxHeaderBytes: config.limits.maxHeaderBytes,
  });
  const lines = [
    `gateway listening on ${host.url} (config: ${result.source}${fromFile ? ', watched for changes' : ''}; storage: ${args.storage})`,
  ];
  for (const s of simulators) lines.push(`  built-in simulator backend at ${s.url}`);
  lines.push(
    'try:',
    `  curl -s ${host.url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
  );
  log(lines.join('\n'));

  const shutdown = async (): Promise<void> => {
    stopWatching?.();
    await host.close();
    await runtime.close();
    await Promise.all(simulators.map((s) => s.close()));
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

function refuse(source: string, issues: readonly string[]): void {
  process.stderr.write(
    `gateway: refusing to start, the configuration (${source}) has ${issues.length} problem(s):\n${issues.map((i) => `  - ${i}`).join('\n')}\n`,
  );
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
