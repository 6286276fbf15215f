import { parseCliArgs, USAGE } from './cli-args.js';
import { startSimulator } from './simulator.js';

/** The simulator's command line: start one instance, print where it listens, stop on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let command;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`simulator: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (command.kind === 'help') {
    console.log(USAGE);
    return;
  }
  const sim = await startSimulator(command.options);
  console.log(`simulator ${sim.name} listening on ${sim.url}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`simulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
