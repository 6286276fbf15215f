import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const hostJson = JSON.parse(readFileSync(new URL('../host.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const architecture = readFileSync(new URL('../docs/architecture.md', import.meta.url), 'utf8');

/** Every leaf setting of host.json as a dotted path, `extensions.` left off (as the table writes them). */
function leaves(value: unknown, path: string[] = []): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [path.join('.').replace(/^extensions\./, '')];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]));
}

/** The setting names in the first column of the `host.json` table of docs/architecture.md. */
function documented(): string[] {
  const section = architecture.split('## `host.json`, setting by setting')[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) =>
      [...(line.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/^extensions\./, '')),
    );
}

/** `00:40:00` → ms. */
function timespanMs(value: unknown): number {
  const match = /^(\d+):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(String(value));
  if (match === null) throw new Error(`not a timespan: ${String(value)}`);
  return ((Number(match[1]) * 60 + Number(match[2])) * 60 + Number(match[3])) * 1000;
}

describe('host.json', () => {
  it('has every setting in the documented table (docs/architecture.md), with why', () => {
    const names = documented();
    expect(names.length).toBeGreaterThan(10);
    const covered = (leaf: string): boolean =>
      names.some((name) => {
        const pattern = new RegExp(`^${name.replace(/[.]/g, '\\.').replace(/\*/g, '[^.]*')}(\\..+)?$`);
        return pattern.test(leaf);
      });
    expect(leaves(hostJson).filter((leaf) => !covered(leaf))).toEqual([]);
  });

  it('renews a Service Bus lock for at least as long as a function may run', () => {
    const extensions = hostJson['extensions'] as Record<string, Record<string, unknown>>;
    expect(timespanMs(extensions['serviceBus']!['maxAutoLockRenewalDuration'])).toBeGreaterThanOrEqual(
      timespanMs(hostJson['functionTimeout']),
    );
  });
});
