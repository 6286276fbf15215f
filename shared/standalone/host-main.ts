import { StartProblem } from './start-problem.js';
import { startTerminalStatus } from './terminal-status.js';
import { parseStartArgs, START_USAGE } from './start-args.js';
import { startStandaloneHost } from './standalone-host.js';
import { tryCommand } from './try-command.js';

/**
 * `npm start`: the standalone gateway (see {@link startStandaloneHost}) — command line, start-up lines,
 * refusal and signals. `releaseCompiler` ends main.ts's hold on V8's optimising compiler: called once the host
 * listens or has failed to, before any call is served (ADR 0088).
 */
async function main(releaseCompiler: () => void): Promise<void> {
  // --storage memory (default): in-process stores. --storage azurite: Table and Blob adapters on the
  // AzureWebJobsStorage connection string (default: a local Azurite), jobs and probes in this process, and
  // each pool's capacity shared with the other replicas on that storage. --instance-id: this replica's name
  // in the capacity ledger (default: host name, pid and a random part).
  // --port / --host / --config: the same as GATEWAY_SERVER__PORT / GATEWAY_SERVER__HOST / GATEWAY_CONFIG_FILE.
  const args = parseStartArgs(process.argv.slice(2), process.env);
  if ('problem' in args) return stop(`gateway: ${args.problem}\n${START_USAGE}`, 2);
  const log = (line: string): void => void process.stdout.write(line + '\n');
  const started = await startStandaloneHost({
    env: args.env,
    storage: args.storage,
    log,
    ...(args.instanceId === undefined ? {} : { instanceId: args.instanceId }),
  }).finally(releaseCompiler);
  if ('issues' in started) return refuse(started.source, started.issues);
  const { url } = started.host;
  const watched = started.watched ? ', watched for changes' : '';
  const sharing = started.runtime.capacitySharing() === undefined ? '' : '; capacity shared through the ledger';
  const storage =
    started.storage === undefined
      ? args.storage
      : `${args.storage}, account ${started.storage.account} at ${started.storage.endpoint}`;
  const lines = [`gateway listening on ${url} (config: ${started.source}${watched}; storage: ${storage}${sharing})`];
  for (const simulator of started.simulatorUrls) lines.push(`  built-in simulator backend at ${simulator}`);
  lines.push(...tryCommand(url, started.runtime.config()));
  log(lines.join('\n'));
  // On a terminal: a status line every few seconds and a line per breaker transition; nothing without one.
  const stopTerminal = startTerminalStatus({
    runtime: started.runtime,
    write: log,
    isTTY: process.stdout.isTTY === true,
    everySeconds: args.statusEverySeconds,
  });

  // SIGTERM / SIGINT: drain (readiness false, new calls 503, calls in flight finish within
  // server.shutdownGraceMs), then close and exit 0. A second signal exits at once.
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    stopTerminal();
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
  stop(`gateway: refusing to start, the configuration (${source}) has ${issues.length} problem(s):\n${list}`, 1);
}

function stop(message: string, code: number): void {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Runs the host (main.ts imports this module once the compiler is held, and calls this). */
export function runHost(releaseCompiler: () => void): void {
  main(releaseCompiler).catch((error: unknown) => {
    releaseCompiler();
    // A problem the operator can fix is one sentence; anything else keeps its stack for the bug report.
    if (error instanceof StartProblem) return stop(`gateway: cannot start: ${error.message}`, 1);
    stop(`gateway: failed to start: ${(error as Error).stack ?? String(error)}`, 1);
  });
}
