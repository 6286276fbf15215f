import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
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
 * Validates in a short-lived worker thread, so that the schema and zod (about 7 MB of resident memory) never
 * stay in the serving process (the standalone host — ADR 0050). The answer, and every problem's wording, is
 * the same as {@link validateInProcess}'s. Run from the TypeScript sources (vitest) there is no built worker
 * script, and if the worker cannot run, validation happens in this thread with a process warning: a
 * configuration is never refused because of where it was checked.
 */
export const validateInWorker: HostValidator = (raw, env) => validateInWorkerWithin(WORKER_TIMEOUT_MS, raw, env);

/**
 * How long a validation thread may take (start, load zod, validate; ~0.1–0.5 s here). A thread that never
 * answers is ended and the configuration validated in this thread instead: the config store runs reloads one
 * after another, so a hung worker would otherwise stop every later reload, silently.
 */
export const WORKER_TIMEOUT_MS = 30_000;

/** {@link validateInWorker} with its own time limit for the thread (tests use a tiny one to take the fallback). */
export async function validateInWorkerWithin(timeoutMs: number, raw: unknown, env: HostEnv): Promise<ConfigResult> {
  if (!existsSync(fileURLToPath(WORKER_SCRIPT))) return validateInProcess(raw, env);
  try {
    return await validateInThread(raw, configEnv(env), timeoutMs);
  } catch (error) {
    const reason = (error as Error).message;
    process.emitWarning(`configuration validated in the serving process: the worker failed (${reason})`, {
      code: 'GATEWAY_CONFIG_WORKER',
    });
    return validateInProcess(raw, env);
  }
}

const WORKER_SCRIPT = new URL('./host-validation-worker.js', import.meta.url);

/** One worker, one validation; settles when the thread has ended (its memory is then given back). */
function validateInThread(raw: unknown, env: HostEnv, timeoutMs: number): Promise<ConfigResult> {
  return new Promise((resolve, reject) => {
    // No inherited flags: a profiler or a preload of the parent has no business in the validation thread.
    const worker = new Worker(WORKER_SCRIPT, { workerData: { raw, env }, execArgv: [] });
    let answer: ConfigResult | undefined;
    const timer = setTimeout(() => {
      if (answer !== undefined) return; // answered; the thread is ending
      reject(new Error(`the validation worker did not answer within ${timeoutMs} ms`));
      void worker.terminate();
    }, timeoutMs);
    timer.unref();
    worker.once('message', (result: ConfigResult) => (answer = result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      clearTimeout(timer);
      if (answer !== undefined) resolve(answer);
      else reject(new Error(`the validation worker ended with code ${code} and no answer`));
    });
  });
}
