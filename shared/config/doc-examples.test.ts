import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gatewaySchema } from './gateway-schema.js';
import { validateConfig } from './load-config.js';

/**
 * Every configuration example in the docs is a configuration the gateway accepts: each ```json block of
 * README.md and docs/*.md whose top-level keys are all configuration sections validates as a whole
 * document (the other blocks are wire formats: error bodies, job JSON, attempts).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECTIONS = new Set(Object.keys(gatewaySchema.shape));
const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : []))];

const examples = docs.flatMap((doc) =>
  [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/```json\n([\s\S]*?)\n```/g)].flatMap((m, i) => {
    let value: unknown;
    try {
      value = JSON.parse(m[1]!);
    } catch {
      return [];
    }
    const keys = typeof value === 'object' && value !== null ? Object.keys(value) : [];
    return keys.length > 0 && keys.every((k) => SECTIONS.has(k)) ? [[`${doc} block ${i + 1}`, value] as const] : [];
  }),
);

describe('configuration examples in the docs', () => {
  it('finds the examples of configuration.md, governance.md, scheduling.md and usage.md', () => {
    const names = examples.map(([name]) => name.split(' ')[0]);
    for (const doc of ['docs/configuration.md', 'docs/governance.md', 'docs/scheduling.md', 'docs/usage.md'])
      expect(names).toContain(doc);
  });

  it.each(examples)('%s validates', (_name, value) => {
    const result = validateConfig(value);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });
});
