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

/** {@link validateInChildProcess} with its own time limit (tests use a tiny one to take the fallback). */
export async function validateInChildProcessWithin(
  timeoutMs: number,
  raw: unknown,
  env: HostEnv,
): Promise<ConfigResult> {
  if (!existsSync(CHILD_SCRIPT)) return validateInProcess(raw, env);
  try {
    return await validateInChild(raw, configEnv(env), timeoutMs);
  } catch (error) {
    const reason = (error as Error).message;
    process.emitWarning(`configuration validated in the serving process: the child process failed (${reason})`, {
      code: 'GATEWAY_CONFIG_WORKER',
    });
    return validateInProcess(raw, env);
  }
}

const CHILD_SCRIPT = fileURLToPath(new URL('./host-validation-child.js', import.meta.url));

/** One child, one validation; settles when the child has exited. */
function validateInChild(raw: unknown, env: HostEnv, timeoutMs: number): Promise<ConfigResult> {
  return new Promise((resolve, reject) => {
    // No inherited flags and no inherited environment (NODE_OPTIONS, a preload): a profiler or a hook of the
    // parent has no business in the validation; the variables it needs come in the message. 'advanced' is the
    // structured clone a worker's postMessage used, so the answer arrives as it did from the worker.
    const child = fork(CHILD_SCRIPT, [], {
      execArgv: [],
      env: {},
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let answer: ConfigResult | undefined;
    const timer = setTimeout(() => {
      if (answer !== undefined) return; // answered; the child is ending
      reject(new Error(`the validation process did not answer within ${timeoutMs} ms`));
      child.kill('SIGKILL');
    }, timeoutMs);
    timer.unref();
    child.once('message', (result) => (answer = result as ConfigResult));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer !== undefined) resolve(answer);
      else reject(new Error(`the validation process ended (${signal ?? `code ${code}`}) with no answer`));
    });
    child.send({ raw, env });
  });
}
