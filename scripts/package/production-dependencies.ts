import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A package-lock.json v2/v3 entry (the fields used here). */
interface LockEntry {
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly devOptional?: boolean;
  readonly link?: boolean;
}

/**
 * The folders under `node_modules` that `npm ci --omit=dev` would install, read from the lockfile's tree:
 * every entry not flagged `dev` (a `devOptional` entry is an optional dependency of a production one),
 * at the path the lockfile gives it, so nesting is exactly npm's. Optional packages are taken when they are
 * installed in `root` (another platform's optional binaries are not, and npm would skip them there too).
 *
 * @example
 * productionDependencyPaths('.'); // ['node_modules/@azure/functions', 'node_modules/zod', …]
 */
export function productionDependencyPaths(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    readonly lockfileVersion?: number;
    readonly packages?: Record<string, LockEntry>;
  };
  if (lock.packages === undefined || (lock.lockfileVersion ?? 0) < 2)
    throw new Error('package-lock.json has no "packages" tree (lockfile v2 or later); run npm install with npm 7+.');
  const paths: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev === true || entry.link === true) continue;
    const installed = existsSync(join(root, path, 'package.json'));
    if (!installed && (entry.optional === true || entry.devOptional === true)) continue;
    if (!installed) throw new Error(`${path} is a production dependency but is not installed: run npm ci first.`);
    paths.push(path);
  }
  return paths.sort();
}
