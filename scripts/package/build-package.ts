import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { productionDependencyPaths } from './production-dependencies.js';

/** What {@link buildPackage} wrote. */
export interface PackageSummary {
  readonly outDir: string;
  readonly files: number;
  readonly bytes: number;
  readonly dependencies: number;
}

/** Files of dependencies that nothing loads at run time: source maps, TypeScript sources and declarations, docs. */
const PRUNED = /\.(map|ts|mts|cts|tsbuildinfo|md|markdown)$/i;

/**
 * Builds the Functions app's deployment package in `outDir` — exactly what azd deploys (azure.yaml:
 * `dist: .package`, `remoteBuild: false`, this build is its `prepackage` hook) and what the package test
 * unpacks and runs:
 * - `dist/`: the app compiled from `functions/index.ts` and what it imports (tsconfig.package.json —
 *   no tests, no simulator, no smoke scripts, no source maps);
 * - `host.json`;
 * - `package.json`: name, version, type, main, engines and the production dependencies, nothing else;
 * - `node_modules/`: the production dependencies as `npm ci --omit=dev` lays them out (the lockfile's
 *   tree less `dev` entries, copied from this checkout's `npm ci` install), less files nothing loads.
 *
 * @example
 * const summary = buildPackage({ root: '.', outDir: '.package' }); // { files: 21000, bytes: 104857600, … }
 */
export function buildPackage(options: { readonly root: string; readonly outDir: string }): PackageSummary {
  const { root, outDir } = options;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  compile(root, join(outDir, 'dist'));
  cpSync(join(root, 'host.json'), join(outDir, 'host.json'));
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(deployedManifest(root), null, 2)}\n`);
  const dependencies = productionDependencyPaths(root);
  for (const path of dependencies)
    cpSync(join(root, path), join(outDir, path), {
      recursive: true,
      verbatimSymlinks: true,
      // Nested node_modules are lockfile entries of their own: copied (or left out) by their own entry.
      filter: (source) => {
        const inner = relative(join(root, path), source);
        if (inner === '') return true;
        return !inner.split('/').includes('node_modules') && !PRUNED.test(basename(source));
      },
    });
  const { files, bytes } = measure(outDir);
  return { outDir, files, bytes, dependencies: dependencies.length };
}

/** The package.json the deployment carries: what the Functions worker reads, and the dependencies for the record. */
function deployedManifest(root: string): Record<string, unknown> {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const keep = ['name', 'version', 'private', 'description', 'type', 'main', 'engines', 'dependencies'];
  return Object.fromEntries(keep.filter((key) => key in manifest).map((key) => [key, manifest[key]]));
}

function compile(root: string, outDir: string): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.package.json'), '--outDir', outDir], {
    stdio: 'inherit',
  });
}

function measure(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}
