import { runScenario, warmUp, type ScorecardRow } from './scenario.js';
import { scenarios } from './scenarios.js';
import { formatScorecard } from './scorecard.js';

/**
 * `npm run faults`: drives the gateway's standalone host against the simulator's scripted faults,
 * one fresh gateway per scenario, prints the scorecard and exits 1 when any scenario fails.
 * `--only 6,10` runs a subset.
 */
async function main(argv: readonly string[]): Promise<number> {
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? '').split(',').filter((s) => s !== '')) : undefined;
  const selected = scenarios.filter((s) => only === undefined || only.has(s.id));
  const rows: ScorecardRow[] = [];
  await warmUp();
  for (const scenario of selected) {
    const row = await runScenario(scenario);
    process.stderr.write(`${row.pass ? 'pass' : 'FAIL'} ${row.id} ${row.title} (${row.elapsedMs} ms)\n`);
    rows.push(row);
  }
  process.stdout.write(`${formatScorecard(rows)}\n`);
  return rows.length > 0 && rows.every((r) => r.pass) ? 0 : 1;
}

process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED ??= 'true';
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `fault suite crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
