import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * A function fits on a screen: `max-lines-per-function` (60 lines, blank lines and comments not counted) holds in
 * the production folders `eslint.config.js` lists in `SCREEN_SIZED` (ADRs 0047, 0054), not in tests.
 */
describe('the function-length rule (eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
  const lint = async (filePath: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath });
    return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
  };
  /** A function of `lines` lines of code in all (signature, `let`, `return` and closing brace included), a blank
   * line and a comment after each of its statements. */
  const fn = (lines: number): string => {
    const body = Array.from({ length: lines - 4 }, (_, i) => `  total += ${i};\n\n  // step ${i}`);
    return `export function long(): number {\n  let total = 0;\n${body.join('\n')}\n  return total;\n}\n`;
  };

  it.each([
    'shared/core/example.ts',
    'shared/standalone/example.ts',
    'shared/composition/example.ts',
    'shared/config/example.ts',
    'shared/adapters/azure/example.ts',
    'shared/adapters/export/example.ts',
    'shared/adapters/file/example.ts',
    'shared/adapters/example.ts',
    'simulator/example.ts',
    'simulator/faults/example.ts',
    'functions/bridge/example.ts',
    'scripts/example.mjs',
  ])('fails a function of 61 lines in %s', async (file) => {
    expect(await lint(file, fn(61))).toContain('max-lines-per-function');
  });

  it('lets a function of 60 lines pass, however many blank lines and comments it has', async () => {
    expect(await lint('simulator/example.ts', fn(60))).not.toContain('max-lines-per-function');
  });

  it('leaves tests alone', async () => {
    expect(await lint('simulator/example.test.ts', fn(61))).not.toContain('max-lines-per-function');
    expect(await lint('shared/adapters/azure/example.test.ts', fn(61))).not.toContain('max-lines-per-function');
    expect(await lint('test/e2e/example.test.ts', fn(61))).not.toContain('max-lines-per-function');
  });
});
