import { parseArgs } from 'node:util';
import { startStandaloneHost } from './standalone-host.js';

/**
 * `npm start`: the standalone gateway (see {@link startStandaloneHost}) — command line, start-up lines,
 * refusal and signals.
 */
async function main(): Promise<void> {
  // --storage memory (default): in-process stores. --storage azurite: Table and Blob adapters on the
  // AzureWebJobsStorage connection string (default: a local Azurite), jobs and probes in this process, and
  // each pool's capacity shared with the other replicas on that storage. --instance-id: this replica's name
  // in the capacity ledger (default: host name, pid and a random part).
  const { values: args } = parseArgs({
    options: { storage: { type: 'string', default: 'memory' }, 'instance-id': { type: 'string' } },
    allowPositionals: false,
  });
  if (args.storage !== 'memory' && args.storage !== 'azurite')
    return refuse('command line', [`--storage must be memory or azurite, not "${args.storage}"`]);
  const log = (line: string): void => void process.stdout.write(line + '\n');
  const instanceId = args['instance-id'];
  const started = await startStandaloneHost({
    env: process.env,
    storage: args.storage,
    log,
    ...(instanceId === undefined ? {} : { instanceId }),
  });
  if ('issues' in started) return refuse(started.source, started.issues);
  const { url } = started.host;
  const watched = started.watched ? ', watched for changes' : '';
  const sharing = started.runtime.capacitySharing() === undefined ? '' : '; capacity shared through the ledger';
  const lines = [
    `gateway listening on ${url} (config: ${started.source}${watched}; storage: ${args.storage}${sharing})`,
  ];
  for (const simulator of started.simulatorUrls) lines.push(`  built-in simulator backend at ${simulator}`);
  const hello = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}';
  lines.push('try:', `  curl -s ${url}/v1/chat/completions -H 'content-type: application/json' -d '${hello}'`);
  log(lines.join('\n'));

  // SIGTERM / SIGINT: drain (readiness false, new calls 503, calls in flight finish within
  // server.shutdownGraceMs), then close and exit 0. A second signal exits at once.
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    const graceMs = started.runtime.config().server.shutdownGraceMs;
    log(`gateway: ${signal}: draining, calls in flight have ${graceMs} ms to finish`);
    const report = await started.drain();
    const cut = report.cut === 0 ? '' : `; ${report.cut} still open after the grace period were ended`;
    log(`gateway: drained ${report.inFlightAtStart} call(s) in flight${cut}`);
    await started.close({ connectionGraceMs: 2_000 });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

function refuse(source: string, issues: readonly string[]): void {
  const list = issues.map((i) => `  - ${i}`).join('\n');
  process.stderr.write(
    `gateway: refusing to start, the configuration (${source}) has ${issues.length} problem(s):\n${list}\n`,
  );
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
