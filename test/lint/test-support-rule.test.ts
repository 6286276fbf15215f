import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * Test support (the fake clock, harnesses, manual timers, contract suites) is for tests, enforced by ESLint
 * (`testSupportOnly` in eslint.config.js): production code under shared/, functions/ and simulator/ may not
 * import it; tests, contract suites and other test support may.
 */
describe('the test-support rule (eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
  const lint = async (filePath: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath });
    return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
  };

  it.each([
    ['shared/core/pipeline/example.ts', "import { FakeClock } from '../test-support/fake-clock.js';"],
    ['shared/core/pipeline/example.ts', "import type { FakeClock } from '../test-support/fake-clock.js';"],
    ['shared/composition/example.ts', "export { FakeClock } from '../core/test-support/fake-clock.js';"],
    ['shared/standalone/example.ts', "export * from '../core/jobs/test-support/manual-timers.js';"],
    ['functions/bridge/example.ts', "const h = await import('../../test/support/gateway-harness.js');"],
    ['simulator/example.ts', "import { describeJobQueueContract } from '../shared/ports/job-queue.contract.js';"],
    ['shared/adapters/memory/example.ts', "import { describe } from 'vitest';"],
    ['shared/adapters/azure/example.ts', "import { x } from './table-job-store.test.js';"],
  ])('fails production code %s for %s', async (file, line) => {
    expect(await lint(file, `${line}\nexport const y = 1;\n`)).toContain('no-restricted-syntax');
  });

  it.each([
    ['shared/core/pipeline/route.test.ts'],
    ['shared/ports/job-queue.contract.ts'],
    ['shared/core/jobs/test-support/example.ts'],
    ['test/component/example.ts'],
  ])('lets the test code %s import it', async (file) => {
    const rules = await lint(
      file,
      "import { FakeClock } from '../test-support/fake-clock.js';\nexport const c = FakeClock;\n",
    );
    expect(rules).not.toContain('no-restricted-syntax');
  });

  it('lets production code import modules whose names only resemble it', async () => {
    const code =
      "import { a } from './latest-support.js';\nimport { b } from './contest.js';\nexport const c = [a, b];\n";
    expect(await lint('shared/core/example.ts', code)).not.toContain('no-restricted-syntax');
  });
});
