import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One function as the app registered it (the metadata the Functions host would index). */
export interface RegisteredFunction {
  readonly name: string;
  readonly bindings: Record<
    string,
    { readonly type: string; readonly direction: string; readonly [k: string]: unknown }
  >;
}

/** What loading the app's `main` did (`load-app.mjs`). */
export interface LoadReport {
  readonly node: string;
  /** Import of `main` until every registration was done. */
  readonly loadMs: number;
  /** Files the import loaded (ES modules resolved + CommonJS modules required). */
  readonly modules: number;
  /** Packages under `node_modules` the import loaded, sorted. */
  readonly packages: readonly string[];
  readonly functions: readonly RegisteredFunction[];
}

/** An app loaded in a process of its own, serving its HTTP triggers and invoking the others on request. */
export interface AppProcess {
  readonly report: LoadReport;
  /** Base URL of the loopback server routing to the HTTP triggers. */
  readonly url: string;
  /** Calls a (non-HTTP) function's handler with a trigger input and trigger metadata, as the host would. */
  invoke(name: string, input: unknown, triggerMetadata?: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/** `functions/smoke/load-app.mjs`, from the sources or from the compiled `dist/functions/smoke/`. */
function loaderPath(): string {
  for (const candidate of ['./load-app.mjs', '../../../functions/smoke/load-app.mjs']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('functions/smoke/load-app.mjs not found');
}

/**
 * Loads the app at `appRoot` (its package.json `main`) in a fresh Node process whose environment is
 * exactly `env` (the app settings) — not the Functions host: see `load-app.mjs`.
 *
 * @example
 * const report = await loadApp('.package', settings); // registrations, load time, packages loaded
 */
export async function loadApp(
  appRoot: string,
  env: Readonly<Record<string, string>>,
  options: { readonly timeOnly?: boolean } = {},
): Promise<LoadReport> {
  const child = start(appRoot, env, options.timeOnly === true ? ['--time-only'] : []);
  try {
    return await nextMessage<LoadReport>(child, 'loaded');
  } finally {
    child.kill();
  }
}

/**
 * Loads the app in a process of its own and serves it (`load-app.mjs --serve`).
 *
 * @example
 * const app = await serveApp('.package', settings);
 * await fetch(`${app.url}/health/live`);
 * await app.invoke('retention', timerInput);
 */
export async function serveApp(appRoot: string, env: Readonly<Record<string, string>>): Promise<AppProcess> {
  const child = start(appRoot, env, ['--serve']);
  try {
    const report = await nextMessage<LoadReport>(child, 'loaded');
    const { port } = await nextMessage<{ port: number }>(child, 'serving');
    let ids = 0;
    return {
      report,
      url: `http://127.0.0.1:${port}`,
      async invoke(name, input, triggerMetadata) {
        const id = ++ids;
        const answer = nextMessage<{ id: number; ok: boolean; result?: unknown; error?: string }>(
          child,
          'result',
          (m) => m.id === id,
        );
        child.send({ kind: 'invoke', id, name, input, triggerMetadata });
        const result = await answer;
        if (!result.ok) throw new Error(`${name} threw: ${result.error ?? '?'}`);
        return result.result;
      },
      close: () => stop(child),
    };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

function start(appRoot: string, env: Readonly<Record<string, string>>, args: string[]): ChildProcess {
  const child = fork(loaderPath(), [appRoot, ...args], {
    env: { ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  return child;
}

/** The next IPC message of `kind` (and matching `accept`); rejects if the process exits first. */
function nextMessage<T>(child: ChildProcess, kind: string, accept: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { kind?: string } & T): void => {
      if (message.kind !== kind || !accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`the app process exited (code ${code}) before it sent "${kind}"`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (child.connected) child.send({ kind: 'exit' });
    else child.kill();
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}
