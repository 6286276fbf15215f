import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configEnv } from './env-overlay.js';
import type { HostEnv } from './host-config.js';
import type { ConfigResult } from './load-config.js';

/** How a host validates each configuration it loads or reloads ({@link validateHostConfig}'s answer). */
export type HostValidator = (raw: unknown, env: HostEnv) => Promise<ConfigResult>;

/**
 * Validates in this thread. The schema and zod are imported at the first validation and stay for the life of
 * the process (the Functions app: its instance's memory is billed by size, and a worker would add to every
 * cold start — ADR 0050).
 */
export const validateInProcess: HostValidator = async (raw, env) => {
  const { validateHostConfig } = await import('./host-validation.js');
  return validateHostConfig(raw, env);
};

/**
 * Validates in a short-lived child process, so that the schema and zod (about 7 MB of resident memory), and the
 * pages of the `node` binary that loading them touches, never count in the serving process (the standalone
 * host — ADRs 0050, 0087). The answer, and every problem's wording, is the same as {@link validateInProcess}'s.
 * Run from the TypeScript sources (vitest) there is no built script for the child, and if the child cannot run,
 * validation happens in this thread with a process warning: a configuration is never refused because of where
 * it was checked.
 */
export const validateInChildProcess: HostValidator = (raw, env) =>
  validateInChildProcessWithin(CHILD_TIMEOUT_MS, raw, env);

/**
 * How long a validation process may take (start, load zod, validate; ~0.1–0.5 s here). A child that never
 * answers is killed and the configuration validated in this thread instead: the config store runs reloads one
 * after another, so a hung child would otherwise stop every later reload, silently.
 */
export const CHILD_TIMEOUT_MS = 30_000;

/**
 * {@link validateInChildProcess} with its own time limit and, for tests, the `node` to start (a missing one takes
 * the fallback the way a refused `fork` does: EACCES, EAGAIN under a process limit).
 */
export async function validateInChildProcessWithin(
  timeoutMs: number,
  raw: unknown,
  env: HostEnv,
  execPath: string = process.execPath,
): Promise<ConfigResult> {
  if (!existsSync(CHILD_SCRIPT)) return validateInProcess(raw, env);
  try {
    return await validateInChild(raw, configEnv(env), timeoutMs, execPath);
  } catch (error) {
    const reason = (error as Error).message;
    process.emitWarning(`configuration validated in the serving process: the child process failed (${reason})`, {
      code: 'GATEWAY_CONFIG_WORKER',
    });
    return validateInProcess(raw, env);
  }
}

const CHILD_SCRIPT = fileURLToPath(new URL('./host-validation-child.js', import.meta.url));

/**
 * One child, one validation. Settles once: with the answer when it arrives, or with the first failure — an
 * `error` event (a refused spawn is reported as one, and so is the message then written to its dead channel:
 * hence `on`, not `once`, or the second would be thrown), the time limit, or the child's end without an answer.
 * The child is killed on every failure, and after an answer if it has not ended within the time limit.
 */
function validateInChild(raw: unknown, env: HostEnv, timeoutMs: number, execPath: string): Promise<ConfigResult> {
  return new Promise((resolve, reject) => {
    // No inherited flags and no inherited environment (NODE_OPTIONS, a preload): a profiler or a hook of the
    // parent has no business in the validation; the variables it needs come in the message. 'advanced' is the
    // structured clone a worker's postMessage used, so the answer arrives as it did from the worker.
    const child = fork(CHILD_SCRIPT, [], {
      execArgv: [],
      execPath,
      env: {},
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let settled = false;
    const fail = (error: Error): void => {
      const first = !settled;
      settled = true;
      // Only a child that started: before its pid is set (a spawn refused with EMFILE answers synchronously), the
      // handle's pid is not one to signal.
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (first) reject(error);
    };
    const late = (): void => fail(new Error(`the validation process did not answer within ${timeoutMs} ms`));
    const timer = setTimeout(late, timeoutMs);
    timer.unref();
    child.on('error', fail);
    child.once('message', (answer) => {
      settled = true;
      resolve(answer as ConfigResult);
    });
    // 'close' comes after the IPC channel has ended, so an answer sent before the child ended has arrived by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (!settled) fail(new Error(`the validation process ended (${signal ?? `code ${code}`}) with no answer`));
    });
    try {
      child.send({ raw, env }, (error) => error && fail(error));
    } catch (error) {
      fail(error as Error); // no channel at all (the spawn failed before one was made: EMFILE)
    }
  });
}
