import type { ScorecardRow } from './scenario.js';

const HEADINGS = ['#', 'scenario', 'caller got', 'backend saw', 'elapsed ms', 'budget ms', 'pass'] as const;

/** The scorecard as a Markdown table, followed by the failed checks of every failing scenario. */
export function formatScorecard(rows: readonly ScorecardRow[]): string {
  const cells = rows.map((r) =>
    [r.id, r.title, r.caller, r.backend, String(r.elapsedMs), String(r.budgetMs), r.pass ? 'PASS' : 'FAIL'].map(escape),
  );
  const widths = HEADINGS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]): string => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [line(HEADINGS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  const failed = rows.filter((r) => !r.pass);
  out.push('', `${rows.length - failed.length}/${rows.length} scenarios passed.`);
  for (const r of failed) {
    out.push('', `FAIL ${r.id} ${r.title}:`);
    for (const f of r.failures) out.push(`  - ${f}`);
    if (r.overBudget) out.push(`  - took ${r.elapsedMs} ms, budget ${r.budgetMs} ms`);
  }
  return out.join('\n');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
