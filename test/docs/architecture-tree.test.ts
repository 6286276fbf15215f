import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md stays true to the tree: its "Source tree" lists every folder that holds source, one
 * line each, and nothing else; every file its "A request's way through" names exists. Folders only, so that
 * adding a file never touches the doc; adding, moving or removing a folder does.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/architecture.md';
/** The top-level folders whose source the tree describes. */
const ROOTS = ['shared', 'functions', 'simulator', 'scripts', 'test', 'infra'];
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs|bicep)$/;
const SKIPPED = new Set(['node_modules', 'dist', 'coverage']);

/** Folders under `dir` (itself included) that directly hold a source file, as `path/` from the repo root. */
export function sourceFolders(root: string, dir: string): string[] {
  const entries = readdirSync(join(root, dir), { withFileTypes: true });
  const here = entries.some((e) => e.isFile() && SOURCE.test(e.name)) ? [`${dir}/`] : [];
  const below = entries
    .filter((e) => e.isDirectory() && !SKIPPED.has(e.name) && !e.name.startsWith('.'))
    .flatMap((e) => sourceFolders(root, `${dir}/${e.name}`));
  return [...here, ...below];
}

/** The text of a `## heading` section, up to the next `## ` heading. */
export function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`${DOC} has no "## ${heading}" section`);
  const body = markdown.slice(start + heading.length + 5);
  const end = body.indexOf('\n## ');
  return end < 0 ? body : body.slice(0, end);
}

/** The folder lines of the first fenced block of the "Source tree" section: `path/  what it holds`. */
export function listedFolders(markdown: string): { path: string; what: string }[] {
  const block = /```\w*\n([\s\S]*?)\n```/.exec(section(markdown, 'Source tree'));
  if (block === null) throw new Error(`the "Source tree" section of ${DOC} has no fenced block`);
  return block[1]!.split('\n').map((line) => {
    const m = /^(\S+)\s+(.*)$/.exec(line);
    return { path: m?.[1] ?? line.trim(), what: m?.[2]?.trim() ?? '' };
  });
}

/** Paths of source files (`a/b.ts`) named in inline code in a text. */
export function namedFiles(text: string): string[] {
  return [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!).filter((name) => SOURCE.test(name));
}

const doc = readFileSync(join(ROOT, DOC), 'utf8');

describe('docs/architecture.md', () => {
  it('lists every folder that holds source, one line each with what it holds, and no other', () => {
    const listed = listedFolders(doc);
    const paths = listed.map((l) => l.path);
    const actual = ROOTS.flatMap((r) => sourceFolders(ROOT, r)).sort();
    expect(actual.length).toBeGreaterThan(40);
    expect(
      paths.filter((p, i) => paths.indexOf(p) !== i),
      'listed twice',
    ).toEqual([]);
    expect(
      actual.filter((p) => !paths.includes(p)),
      'source folders the tree does not list',
    ).toEqual([]);
    expect(
      paths.filter((p) => !actual.includes(p)),
      'listed folders that hold no source',
    ).toEqual([]);
    expect(
      listed.filter((l) => l.what === '').map((l) => l.path),
      'lines without a description',
    ).toEqual([]);
  });

  it("names in the request's way through only files that exist, by their path from the root", () => {
    const named = namedFiles(section(doc, "A request's way through"));
    expect(named.length).toBeGreaterThan(30);
    expect(
      named.filter((path) => !existsSync(join(ROOT, path))),
      'named but not found',
    ).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const markdown = [
    '# T',
    '## Source tree',
    '```text',
    'shared/core/        the engine',
    'shared/gone/        a folder that went away',
    'shared/bare/',
    '```',
    "## A request's way through",
    '`shared/core/gateway.ts` then `read-body.ts`, not `gateway.handle`',
    '## Next',
    '`shared/core/not-here.ts`',
  ].join('\n');

  it('reads the folder lines and their descriptions', () => {
    expect(listedFolders(markdown)).toEqual([
      { path: 'shared/core/', what: 'the engine' },
      { path: 'shared/gone/', what: 'a folder that went away' },
      { path: 'shared/bare/', what: '' },
    ]);
  });

  it('reads only the named section, and file names only', () => {
    expect(namedFiles(section(markdown, "A request's way through"))).toEqual([
      'shared/core/gateway.ts',
      'read-body.ts',
    ]);
  });

  it('finds this folder and its parent as source folders', () => {
    const folders = sourceFolders(ROOT, 'test');
    expect(folders).toContain('test/docs/');
    expect(folders).toContain('test/');
  });
});
