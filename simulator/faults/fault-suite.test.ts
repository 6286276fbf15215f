import { beforeAll, describe, expect, it } from 'vitest';
import { runScenario, warmUp } from './scenario.js';
import { scenarios } from './scenarios.js';

describe('fault suite: the gateway against scripted simulator faults', () => {
  beforeAll(warmUp, 60_000);

  it.each(scenarios.map((s) => [`${s.id} ${s.title}`, s] as const))(
    '%s',
    async (_name, scenario) => {
      const row = await runScenario(scenario);
      expect(row.failures, `caller got: ${row.caller}\nbackend saw: ${row.backend}`).toEqual([]);
      expect(row.elapsedMs).toBeLessThanOrEqual(row.budgetMs);
    },
    20_000,
  );
});
