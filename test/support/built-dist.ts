import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds `dist/` when `output` is older than a source (the same check `npm run usage` makes), for tests that
 * run a command as a process. Concurrent callers build once (the script holds a lock).
 */
export async function ensureBuilt(output: string): Promise<void> {
  await promisify(execFile)(process.execPath, ['scripts/run-built.mjs', '--build-only', output], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
}
