import { describe, expect, it } from 'vitest';
import { runFunctionsSmoke } from './functions-smoke.js';

describe('functions smoke (registered handlers over loopback HTTP, not the Functions host)', () => {
  it('passes every check: health, proxy (plain and streamed), admin, async job through the worker, timers', async () => {
    const checks = await runFunctionsSmoke();
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks).toHaveLength(6);
  });
});
