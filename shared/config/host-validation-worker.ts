import { parentPort, workerData } from 'node:worker_threads';
import type { HostEnv } from './host-config.js';
import { validateHostConfig } from './host-validation.js';

// The worker {@link validateInWorker} starts: one validation, answered once; the thread then ends, and with it
// the schema and zod it loaded.
const { raw, env } = workerData as { raw: unknown; env: HostEnv };
parentPort?.postMessage(validateHostConfig(raw, env));
