import { beforeAll, describe, expect, it } from 'vitest';
import { runScenario, warmUp } from './scenario.js';
import { scenarios } from './scenarios.js';

describe('fault suite: the gateway against scripted simulator faults', () => {
  beforeAll(warmUp, 60_000);

  it.each(scenarios.map((s) => [`${s.id} ${s.title}`, s] as const))(
    '%s',
    async (_name, scenario) => {
      const row = await runScenario(scenario);
      // The work done: what the caller got and what each backend saw (attempts, statuses, order). The time
      // budget is a timing — `npm run faults` fails a row over it; a loaded CI machine stretches every timer.
      expect(row.failures, `caller got: ${row.caller}\nbackend saw: ${row.backend}`).toEqual([]);
    },
    20_000,
  );
});
