import type { HostEnv } from './host-config.js';
import { validateHostConfig } from './host-validation.js';

// The process {@link validateInChildProcess} starts: one validation, answered once over the IPC channel; the
// process then ends, and with it the schema, zod and every page they touched (ADR 0087).
process.once('message', ({ raw, env }: { raw: unknown; env: HostEnv }) => {
  // Disconnecting once the answer is written leaves the process nothing to wait for: it exits on its own.
  // A parent gone before the answer was written: nothing to disconnect (doing so would throw here, on stderr).
  process.send?.(validateHostConfig(raw, env), (error: Error | null) => {
    if (error === null && process.connected) process.disconnect();
  });
});
