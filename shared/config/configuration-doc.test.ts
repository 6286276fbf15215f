import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gatewaySchema } from './gateway-schema.js';
import { loadConfig, validateConfig } from './load-config.js';

/**
 * Keeps `docs/configuration.md` true to the schemas: every field of the configuration schema appears in
 * it as a full path in backticks, no reference row names a field that does not exist, and its JSON
 * examples (the complete example above all) validate.
 *
 * Path notation (the doc uses the same): `section.field`; `list[].field` for a field of every element of
 * an array; `map.<name>.field` for a field of every value of a record, where `<name>` is any placeholder
 * (`<model>`, `<level>`). Union members contribute the union of their fields.
 */

const DOC_PATH = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
const EXAMPLE_HEADING = '## Complete example';
const KEY = '<key>';

/** Every field path of `schema` below `prefix`, in the doc's notation. */
function fieldPaths(schema: z.ZodType, prefix = '', out = new Set<string>()): Set<string> {
  if (schema instanceof z.ZodObject) {
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      out.add(path);
      fieldPaths(field, path, out);
    }
  } else if (
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodReadonly ||
    schema instanceof z.ZodCatch
  ) {
    fieldPaths(schema.def.innerType as z.ZodType, prefix, out);
  } else if (schema instanceof z.ZodPipe) {
    fieldPaths(schema.def.in as z.ZodType, prefix, out);
    fieldPaths(schema.def.out as z.ZodType, prefix, out);
  } else if (schema instanceof z.ZodArray) {
    fieldPaths(schema.element as z.ZodType, `${prefix}[]`, out);
  } else if (schema instanceof z.ZodRecord) {
    fieldPaths(schema.def.valueType as z.ZodType, `${prefix}.${KEY}`, out);
  } else if (schema instanceof z.ZodUnion) {
    for (const option of schema.options as readonly z.ZodType[]) fieldPaths(option, prefix, out);
  } else if (schema instanceof z.ZodLazy) {
    throw new Error(`${prefix}: a lazy (recursive) schema cannot be walked; extend fieldPaths`);
  }
  return out;
}

/** The configuration's field paths, sorted. */
function configPaths(): string[] {
  return [...fieldPaths(gatewaySchema)].sort();
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex finding `path` in backticks, with any `<placeholder>` where the path has a record key. */
function pathPattern(path: string): RegExp {
  return new RegExp('`' + path.split(KEY).map(escapeRegExp).join('<[A-Za-z0-9_-]+>') + '`');
}

/** The body of the first fenced ```json block after `heading`. */
function exampleBlock(doc: string, heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/configuration.md has no heading "${heading}"`);
  const match = /```json\n([\s\S]*?)\n```/.exec(doc.slice(start));
  if (match === null) throw new Error(`no \`\`\`json block under "${heading}"`);
  return match[1]!;
}

const doc = readFileSync(DOC_PATH, 'utf8');

describe('docs/configuration.md', () => {
  it('finds the fields of every kind of schema node (objects, arrays, records, unions, wrappers)', () => {
    const paths = configPaths();
    expect(paths).toEqual(
      expect.arrayContaining([
        'server.port',
        'resilience.breaker.failureThreshold',
        'backends[].timeouts.firstByteMs',
        'backends[].auth.key.env',
        'backends[].auth.audience',
        'pools[].backends[].weight',
        'governance.identity.apiKeys.keys[].sha256',
        'scheduling.perLevel.<key>.reservedSlots',
        'usage.prices.<key>.inputPer1k',
        'async.syncWaitMs',
      ]),
    );
    expect(paths.length).toBeGreaterThan(150);
  });

  it('documents every configuration field by its full path', () => {
    const undocumented = configPaths().filter((path) => !pathPattern(path).test(doc));
    expect(
      undocumented,
      `fields missing from docs/configuration.md (add a row for each):\n  ${undocumented.join('\n  ')}`,
    ).toEqual([]);
  });

  it('documents no field the schema does not have', () => {
    const paths = configPaths();
    const known = paths.map(
      (path) => new RegExp('^' + path.split(KEY).map(escapeRegExp).join('<[A-Za-z0-9_-]+>') + '$'),
    );
    const sections = new Set(paths.filter((path) => /^[A-Za-z]+$/.test(path)));
    // A reference table row names one field in its first cell, starting with its section.
    const rows = [...doc.matchAll(/^\| `([^`]+)` \|/gm)]
      .map((m) => m[1]!)
      .filter((cell) => sections.has(/^[A-Za-z]+/.exec(cell)?.[0] ?? ''));
    expect(rows.length).toBeGreaterThan(150);
    const unknown = rows.filter((path) => !known.some((pattern) => pattern.test(path)));
    expect(unknown, `rows in docs/configuration.md naming no schema field:\n  ${unknown.join('\n  ')}`).toEqual([]);
  });

  it('has only valid configurations in its json blocks', () => {
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const problems = blocks.flatMap((block, i) => {
      const result = validateConfig(JSON.parse(block));
      return result.ok ? [] : result.issues.map((issue) => `block ${i + 1}: ${issue}`);
    });
    expect(problems).toEqual([]);
  });
});

describe('the complete example in docs/configuration.md', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('validates as a gateway.config.json', () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-config-doc-'));
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, exampleBlock(doc, EXAMPLE_HEADING));
    const result = loadConfig({ file, env: {} });
    expect(result.ok ? [] : result.issues, 'the example has problems').toEqual([]);
  });

  it('shows what the reference promises: PTU/PAYG groups, model fallback, path-prefix route, keys, tiers', () => {
    const result = validateConfig(JSON.parse(exampleBlock(doc, EXAMPLE_HEADING)));
    if (!result.ok) throw new Error(result.issues.join('\n'));
    const { backends, routes, governance, usage } = result.config;
    expect(new Set(backends.filter((b) => b.kind === 'azure-openai').map((b) => b.group))).toEqual(
      new Set(['ptu', 'payg']),
    );
    expect(backends.some((b) => b.kind === 'openai')).toBe(true);
    expect(routes.some((r) => r.fallbacks.length > 0)).toBe(true);
    expect(routes.some((r) => r.match.pathPrefix !== undefined)).toBe(true);
    expect(governance.identity.apiKeys.keys.length).toBeGreaterThan(0);
    expect(governance.profiles.filter((p) => p.tier !== undefined).length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(usage.prices).length).toBeGreaterThan(0);
  });
});
