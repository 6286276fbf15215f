import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AZURITE_COMMAND } from '../../shared/standalone/storage-runtime.js';
import { REPO_ROOT } from '../support/built-dist.js';

const DOCS = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('the Azurite command', () => {
  it('is one command everywhere the docs give one (with --disableTelemetry), the one the host prints', () => {
    const found: string[] = [];
    for (const doc of [...DOCS, 'functions/smoke/main.ts']) {
      const text = readFileSync(join(REPO_ROOT, doc), 'utf8').replace(/\n\/\/ /g, ' ');
      // `npx azurite` and its arguments, up to a shell operator, a comment or the end of the code span.
      for (const match of text.matchAll(/npx azurite(?: (?![&#|])[^\s`)]+)*/g)) found.push(`${doc}: ${match[0]}`);
    }
    expect(found.length).toBeGreaterThanOrEqual(3);
    for (const entry of found) expect(entry).toMatch(new RegExp(`: ${AZURITE_COMMAND.replace(/[.]/g, '\\.')}$`));
  });
});
