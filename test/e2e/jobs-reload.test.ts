import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

const ALICE = 'alice-reload-key-0123456789';

/** Async settings documented as hot-reloadable apply to the jobs submitted after a reload. */
describe('async jobs across a configuration reload', () => {
  let h: Harness;
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a long job' }] };
  const config =
    (async: GatewayConfigInput['async']) =>
    (urls: Record<string, string>): GatewayConfigInput =>
      defaultConfig(urls, {
        governance: {
          identity: {
            apiKeys: {
              enabled: true,
              keys: [{ id: 'alice', sha256: hashApiKey(ALICE), profile: 'batch', userId: 'alice' }],
            },
          },
          profiles: [{ id: 'batch', async: { allowed: true } }],
        },
        async,
      });

  beforeEach(async () => {
    h = await startHarness({ simulators: { a: {} }, config: config({ syncWaitMs: 0, runDeadlineMs: 600_000 }) });
  });
  afterEach(async () => h.close());

  async function submit(): Promise<{ created_at: string; deadline_at: string }> {
    const response = await postJson(`${h.url}/v1/chat/completions`, chat, {
      'api-key': ALICE,
      'x-gateway-async': 'true',
    });
    expect(response.status).toBe(202);
    return (await response.json()) as { created_at: string; deadline_at: string };
  }
  const runDeadlineOf = (job: { created_at: string; deadline_at: string }): number =>
    Date.parse(job.deadline_at) - Date.parse(job.created_at);

  it('gives a job submitted after a reload the reloaded async.runDeadlineMs', async () => {
    expect(runDeadlineOf(await submit())).toBe(600_000);
    h.reload(config({ syncWaitMs: 0, runDeadlineMs: 120_000 }));
    expect(runDeadlineOf(await submit())).toBe(120_000);
  });
});
