import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { standaloneMainPath } from '../../simulator/saturation/gateway-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = ['shared', 'simulator', 'functions'];

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure the compiled standalone host the process tests spawn is there and not older than the
 * sources: CI and the landing checklist build first (`npm run build`), so this usually only looks; when
 * the build is missing or stale it runs `tsc -p tsconfig.json` once (tens of seconds).
 */
export function ensureBuilt(): string {
  const main = standaloneMainPath();
  const newest = Math.max(...SOURCES.map((dir) => newestSourceMs(join(ROOT, dir))));
  if (existsSync(main) && statSync(main).mtimeMs >= newest) return main;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);
  return main;
}
