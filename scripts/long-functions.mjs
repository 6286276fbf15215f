#!/usr/bin/env node
// Lists the functions longer than a screen (default 60 lines, blank lines and comments not counted) in the
// production code under the given folders — tests, contract suites and test support are left out — longest
// first, with a total. It runs ESLint's own `max-lines-per-function`, so it counts what the lint rule on
// shared/core enforces. Usage: node scripts/long-functions.mjs [--max N] [folder…]  (default: shared functions
// simulator scripts).
import { ESLint } from 'eslint';

const args = process.argv.slice(2);
const maxAt = args.indexOf('--max');
const max = maxAt === -1 ? 60 : Number(args.splice(maxAt, 2)[1]);
const folders = args.length > 0 ? args : ['shared', 'functions', 'simulator', 'scripts'];

const eslint = new ESLint({
  ignorePatterns: ['**/*.test.ts', '**/*.contract.ts', '**/test-support/**'],
  overrideConfig: {
    rules: { 'max-lines-per-function': ['error', { max, skipBlankLines: true, skipComments: true }] },
  },
});
const results = await eslint.lintFiles(folders);
const rows = [];
for (const result of results) {
  for (const message of result.messages) {
    if (message.ruleId !== 'max-lines-per-function') continue;
    const match = /^(?:.*?'(.+)' )?.*?has too many lines \((\d+)\)/.exec(message.message) ?? [];
    const [, name = '(anonymous)', lines] = match;
    const file = result.filePath.replace(`${process.cwd()}/`, '');
    rows.push({ file, line: message.line, name, lines: Number(lines) });
  }
}
rows.sort((a, b) => b.lines - a.lines);
for (const row of rows) console.log(`${String(row.lines).padStart(4)}  ${row.name}  ${row.file}:${row.line}`);
console.log(`${rows.length} functions over ${max} lines in ${folders.join(', ')}`);
