// Runs a compiled entry point from dist/, building first only when a source is newer than that output —
// `npm run usage` answers in well under a second when nothing changed, and never runs stale code.
//
//   node scripts/run-built.mjs dist/shared/standalone/usage-cli.js [args…]
//   node scripts/run-built.mjs --build-only dist/shared/standalone/main.js   (tests that run the host as a process)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['shared', 'functions', 'simulator'];
const SOURCE_FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];

/** The newest modification time among the files the build reads (tests excluded), in ms. */
export function newestSourceMs(base = root) {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
        newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) visit(join(base, dir));
  for (const file of SOURCE_FILES)
    newest = Math.max(newest, statSync(join(base, file), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return newest;
}

const isCurrent = (output, base) => {
  const built = statSync(resolve(base, output), { throwIfNoEntry: false })?.mtimeMs;
  return built !== undefined && built >= newestSourceMs(base);
};

/**
 * Builds with `tsc` when `output` is missing or older than a source; returns whether it built. Builds are
 * serialised by a lock directory, so two runs (or two test files) starting together build once.
 */
export function ensureBuilt(output, base = root) {
  if (isCurrent(output, base)) return false;
  const lock = join(base, 'dist', '.build-lock');
  mkdirSync(join(base, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another build runs: wait for it (a lock older than 5 minutes is left from a killed build).
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 300_000) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (isCurrent(output, base)) return false;
    const tsc = join(base, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(base, 'tsconfig.json')], {
      cwd: base,
      stdio: 'inherit',
    });
    if (result.status !== 0) {
      process.stderr.write(`The build failed (tsc exit ${result.status ?? result.signal}); nothing was run.\n`);
      process.exit(result.status ?? 1);
    }
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const buildOnly = process.argv[2] === '--build-only';
  const [output, ...args] = process.argv.slice(buildOnly ? 3 : 2);
  if (output === undefined) {
    process.stderr.write('usage: node scripts/run-built.mjs [--build-only] dist/<entry>.js [args…]\n');
    process.exit(2);
  }
  ensureBuilt(output);
  if (buildOnly) process.exit(0);
  const entry = resolve(root, output);
  // The entry checks that it is the main module (process.argv[1]); make it so, then run it in this process.
  process.argv = [process.argv[0], entry, ...args];
  await import(pathToFileURL(entry).href);
}
