import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorRegistry } from './error-registry.js';

/** Rows of the registry table in docs/errors.md: | code | status | type | retryable | message | */
function documentedRows(): Map<string, string[]> {
  const text = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const code = cells[1]?.replace(/`/g, '');
    if (code?.startsWith('GW_ERR_')) rows.set(code, cells.slice(2, 6));
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('lists every registry code with its status, type, retryable flag and message', () => {
    const rows = documentedRows();
    for (const [code, def] of Object.entries(errorRegistry)) {
      expect(rows.get(code), `${code} missing from docs/errors.md`).toEqual([
        String(def.status),
        def.type,
        def.retryable ? 'yes' : 'no',
        def.message,
      ]);
    }
  });

  it('documents no code that the registry does not have', () => {
    const extra = [...documentedRows().keys()].filter((code) => !(code in errorRegistry));
    expect(extra).toEqual([]);
  });
});
