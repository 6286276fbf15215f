import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, REPO_ROOT } from './built-dist.js';

/** The compiled standalone host (`npm start` runs it after building). */
export const HOST_ENTRY = 'dist/shared/standalone/main.js';

/** A standalone host run as a child process, its output collected as it arrives. */
export interface HostProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the output once `pattern` appears on stdout (rejects if the process exits first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) unless it already ended, and waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Builds `dist/` when a source is newer (once for concurrent callers). */
export function buildHost(): Promise<void> {
  return ensureBuilt(HOST_ENTRY);
}

/**
 * Starts `node dist/shared/standalone/main.js …args` in `cwd` (default: a directory the caller gives so no
 * `gateway.config.json` of the repository is picked up). `env` is added to a minimal environment: the
 * host sees no variable of the test runner's own (`GATEWAY_*`, `PORT`).
 */
export function startHostProcess(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  /** Another program to run with `args` instead of the host (e.g. `script` giving the host a pty). */
  program?: string,
): HostProcess {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd };
  const command = program === undefined ? [process.execPath, join(REPO_ROOT, HOST_ENTRY), ...args] : [program, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { ...base, ...env },
    // script(1) stops copying the pty once its stdin ends, and the host's terminal writes then block: keep it open.
    stdio: [program === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const listener of listeners) listener();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = out.match(pattern);
          if (match !== null) {
            listeners.delete(check);
            resolve(match);
          } else if (ended) {
            listeners.delete(check);
            reject(new Error(`the host ended before printing ${pattern}:\n${out}\n${err}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}
