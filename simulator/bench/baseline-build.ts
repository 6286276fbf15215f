import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The other build `--compare` runs beside this one. */
export interface BaselineBuild {
  /** How the report names it: the folder given, or the revision's short hash. */
  readonly label: string;
  /** Its `dist` folder (the compiled tree: `shared/standalone/main.js` under it). */
  readonly dist: string;
}

const GATEWAY_MAIN = join('shared', 'standalone', 'main.js');

/** The standalone host's entry point in a build's `dist` folder. */
export const gatewayMain = (dist: string): string => join(dist, GATEWAY_MAIN);

/**
 * Finds or makes the build `--compare <spec>` names. A folder is used as it is: a `dist` folder, or a checkout
 * with a built `dist/` (its own `node_modules` beside it). Anything else must be a git revision of this
 * repository: its tree is exported under `workDir` and built there (`npm run build`), with this checkout's
 * `node_modules` linked in when the two lockfiles are the same and `npm ci` otherwise. The build runs before
 * any process of the bench starts, so it never overlaps a measurement.
 */
export function baselineBuild(spec: string, workDir: string): BaselineBuild {
  if (existsSync(spec)) return builtFolder(spec);
  const commit = revision(spec);
  const root = join(workDir, `baseline-${commit.slice(0, 12)}`);
  mkdirSync(root, { recursive: true });
  const tree = execFileSync('git', ['archive', '--format=tar', commit], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', root], { input: tree });
  const sameLock = readFileSync(join(root, 'package-lock.json'), 'utf8') === readFileSync('package-lock.json', 'utf8');
  const toStderr = { cwd: root, stdio: ['ignore', 2, 2] as ['ignore', number, number] };
  process.stderr.write(`  building ${spec} (${commit.slice(0, 12)}) in ${root}\n`);
  if (sameLock) symlinkSync(resolve('node_modules'), join(root, 'node_modules'), 'dir');
  else execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], toStderr);
  execFileSync('npm', ['run', 'build', '--silent'], toStderr);
  return { label: `${spec} (${commit.slice(0, 12)})`, dist: join(root, 'dist') };
}

function builtFolder(folder: string): BaselineBuild {
  for (const dist of [folder, join(folder, 'dist')]) {
    if (existsSync(gatewayMain(dist))) return { label: folder, dist: resolve(dist) };
  }
  throw new Error(
    `--compare ${folder}: neither ${gatewayMain(folder)} nor ${gatewayMain(join(folder, 'dist'))} exists`,
  );
}

function revision(spec: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${spec}^{commit}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`--compare ${spec}: not a folder and not a git revision of this repository`);
  }
}
