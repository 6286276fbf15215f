import { setFlagsFromString } from 'node:v8';

/** What {@link holdOptimisingCompiler} reads and does; injectable for its tests. */
export interface CompilerHoldOptions {
  /** The process's V8 and Node options (`process.execArgv`). */
  readonly execArgv: readonly string[];
  /** `NODE_OPTIONS`, where V8 options such as `--jitless` may also come from. */
  readonly nodeOptions: string | undefined;
  /** V8's runtime flag setter (`v8.setFlagsFromString`). */
  readonly setFlags?: (flags: string) => void;
  /** Whether this `node` was built with Maglev (`process.config.variables.v8_enable_maglev`; 0 in Node 20, 22). */
  readonly maglevBuilt?: boolean;
}

/**
 * V8 options that say how code is compiled. Given by whoever started the process, they are left exactly as given:
 * V8 cannot be asked for a flag's value, so the hold could not restore theirs (and under `--jitless` turning the
 * optimising compiler on would be wrong).
 */
const COMPILER_FLAGS = new Set(['turbofan', 'opt', 'jitless', 'maglev', 'max-opt', 'lite-mode', 'always-turbofan']);

function namesCompiler(option: string): boolean {
  // V8 reads `--no_opt` as `--no-opt`, and takes `--noopt` (a `no` without its dash) for it too.
  const name = /^--?(?:no-?)?([a-z-]+)/.exec(option.replaceAll('_', '-'))?.[1];
  return name !== undefined && COMPILER_FLAGS.has(name);
}

/**
 * Holds V8's optimising compiler (TurboFan) off while the host starts, and returns the function that turns it back
 * on (idempotent). Nothing of the gateway is hot at start, but Node's module resolver is: resolving ~250 modules
 * makes its path helpers hot enough to be optimised, and compiling one function pages ~5 MB of the compiler's code
 * in the `node` binary into this process's RSS for good (ADRs 0080, 0088). Held off, they stay in V8's baseline
 * code for the few milliseconds of start-up; released once the host listens, every call's hot path is optimised as
 * before. Not held when the process was started with a compiler option of its own (see {@link COMPILER_FLAGS}).
 */
export function holdOptimisingCompiler(options: CompilerHoldOptions): () => void {
  const given = [...options.execArgv, ...(options.nodeOptions ?? '').split(/\s+/)];
  // With Maglev built in, `--no-turbofan` would make it the top tier, and Maglev code compiled during the hold is
  // not built to tier up to TurboFan afterwards (V8's interrupt budget checks): the hold would outlast the start.
  if (given.some(namesCompiler) || (options.maglevBuilt ?? maglevInThisNode())) return () => {};
  const setFlags = options.setFlags ?? setFlagsFromString;
  setFlags('--no-turbofan');
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    setFlags('--turbofan');
  };
}

function maglevInThisNode(): boolean {
  return Boolean((process.config.variables as { v8_enable_maglev?: unknown }).v8_enable_maglev);
}
