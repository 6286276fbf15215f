import { runQueueVolume, volumeChecks, formatVolume, DEFAULT_VOLUME } from './queue-volume.js';
import {
  agingChecks,
  agingDistributions,
  priorityChecks,
  priorityDistributions,
  runAgingScenario,
  runPriorityScenario,
  type Check,
  type ScenarioResult,
} from './saturation-scenarios.js';
import { formatDistributions } from './wait-stats.js';
import { startAzurite } from '../azurite.js';
import { DEFAULT_SHARED_CAPACITY, runSharedCapacityScenario } from './shared-capacity.js';
import { formatSharedCapacity, sharedCapacityChecks } from './shared-capacity-checks.js';

/**
 * `npm run build && node dist/simulator/saturation/main.js`: the saturation proof of priority scheduling
 * through the real engine and HTTP surface. Prints the wait-time distribution per level of each scenario,
 * the 10,000-request volume figures, the shared-capacity scenario (three standalone gateway processes on
 * an Azurite this starts) and every check; exits 1 when a check fails. `--no-volume` skips the volume run,
 * `--no-shared` the shared-capacity one. Run node with `--expose-gc` for exact heap figures.
 */
async function main(argv: readonly string[]): Promise<number> {
  const out: string[] = [];
  const checks: Check[] = [];

  const priority = await runPriorityScenario();
  out.push(
    header(priority, 'flood of level-3 calls (greedy user first), then level-1 calls'),
    formatDistributions(priorityDistributions(priority)),
    '',
  );
  checks.push(...priorityChecks(priority));

  const aging = await runAgingScenario();
  out.push(
    header(aging, 'level-1 closed loop above capacity, a few level-3 calls'),
    formatDistributions(agingDistributions(aging)),
    '',
  );
  checks.push(...agingChecks(aging));

  if (!argv.includes('--no-volume')) {
    const volume = await runQueueVolume(DEFAULT_VOLUME);
    out.push(formatVolume(volume), '');
    checks.push(...volumeChecks(volume));
  }

  if (!argv.includes('--no-shared')) {
    const azurite = await startAzurite();
    try {
      const shared = await runSharedCapacityScenario({
        ...DEFAULT_SHARED_CAPACITY,
        storageConnection: azurite.connectionString,
      });
      out.push(formatSharedCapacity(shared), '');
      checks.push(...sharedCapacityChecks(shared));
    } finally {
      await azurite.stop();
    }
  }

  out.push('checks:', ...checks.map((c) => `  ${c.pass ? 'pass' : 'FAIL'}  ${c.name} — ${c.detail}`));
  process.stdout.write(`${out.join('\n')}\n`);
  return checks.every((c) => c.pass) ? 0 : 1;
}

function header(result: ScenarioResult, what: string): string {
  return (
    `scenario ${result.name}: ${what}\n  ${JSON.stringify(result.options)}\n  ${result.calls.length} calls, ` +
    `longest lease hold ${result.maxHoldMs.toFixed(0)} ms, ${(result.elapsedMs / 1000).toFixed(1)} s\n` +
    '  queue wait (usage record timings.queueWaitMs):'
  );
}

process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED ??= 'true';
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `saturation proof crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
