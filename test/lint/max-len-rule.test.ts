import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * Lines are at most 120 characters (`max-len` in eslint.config.js; Prettier's print width is the same but
 * Prettier does not break strings, template literals, comments or test titles). No exceptions: a long string
 * is split with `+`, a long comment reflowed.
 */
describe('the line-length rule (eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
  const lint = async (filePath: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath });
    return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
  };
  /** `before` + padding + `after`, `length` characters in all. */
  const line = (length: number, before: string, after: string): string =>
    before + 'x'.repeat(length - before.length - after.length) + after;

  it.each([
    ['a string', 'shared/core/example.ts', line(121, "export const s = '", "';")],
    ['a template literal', 'simulator/example.ts', line(121, 'export const s = `', '`;')],
    ['a line comment', 'functions/bridge/example.ts', line(121, '// ', '')],
    ['a TSDoc line', 'shared/ports/example.ts', line(121, ' * ', '')],
    ['a test title', 'shared/core/example.test.ts', line(121, "it('", "', () => {});")],
    ['a URL in a comment', 'test/e2e/example.test.ts', line(121, '// https://example.com/', '')],
    ['a script line', 'scripts/example.mjs', line(121, "console.log('", "');")],
  ])('fails %s of 121 characters', async (what, file, long) => {
    const code = what === 'a TSDoc line' ? `/**\n${long}\n */\nexport const y = 1;` : `${long}\nexport const y = 1;`;
    expect(long.length).toBe(121);
    expect(await lint(file, `${code}\n`)).toContain('max-len');
  });

  it('lets a line of 120 characters pass', async () => {
    const code = line(120, "export const s = '", "';");
    expect(await lint('shared/core/example.ts', `${code}\n`)).not.toContain('max-len');
  });
});
