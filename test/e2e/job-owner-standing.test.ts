import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { postJson, startHarness, type Harness } from '../support/gateway-harness.js';
import { startHeldBackend, type HeldBackend } from '../support/held-backend.js';

const ALICE = 'alice-standing-key-0123456789';
const BOB = 'bob-standing-key-0123456789';
const ADMIN = 'admin-standing-key-0123456789';

/** What an operator changes about alice while her job waits. */
interface Standing {
  readonly suspendedUsers?: string[];
  readonly keySuspended?: boolean;
  readonly keyRemoved?: boolean;
  readonly profileSuspended?: boolean;
  readonly allowedModels?: string[];
  readonly asyncAllowed?: boolean;
}

function configFor(url: string, alice: Standing = {}): GatewayConfigInput {
  const key = (id: string, plain: string, profile: string, suspended = false) => ({
    id,
    sha256: hashApiKey(plain),
    profile,
    userId: id,
    suspended,
  });
  return {
    backends: [{ id: 'held', url, kind: 'openai', maxConcurrency: 1 }],
    pools: [{ id: 'main', backends: ['held'] }],
    routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
    governance: {
      identity: {
        apiKeys: {
          enabled: true,
          keys: [
            ...(alice.keyRemoved === true ? [] : [key('alice', ALICE, 'alice', alice.keySuspended)]),
            key('bob', BOB, 'bob'),
          ],
        },
      },
      profiles: [
        {
          id: 'alice',
          async: { allowed: alice.asyncAllowed ?? true },
          suspended: alice.profileSuspended ?? false,
          ...(alice.allowedModels === undefined ? {} : { allowedModels: alice.allowedModels }),
        },
        { id: 'bob', async: { allowed: true } },
      ],
      suspendedUsers: alice.suspendedUsers ?? [],
      admin: { keys: [{ id: 'ops', sha256: hashApiKey(ADMIN) }] },
    },
    async: { syncWaitMs: 0, workerConcurrency: 1, pollIntervalMs: 20 },
  };
}

/**
 * A queued async job re-checks its owner's standing when it starts and once it holds capacity: a change
 * made while it waited (suspension, key, profile, async permission, model allowlist) stops it before it
 * reaches a backend, and the job fails with the refusal.
 */
describe("an async job and its owner's standing", () => {
  let h: Harness | undefined;
  let backend: HeldBackend | undefined;
  afterEach(async () => {
    backend?.release();
    await h?.close();
    await backend?.close();
  });

  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a long job' }] };

  async function start(): Promise<{ h: Harness; backend: HeldBackend }> {
    backend = await startHeldBackend();
    const url = backend.url;
    h = await startHarness({ simulators: {}, config: () => configFor(url) });
    return { h, backend };
  }

  async function submitJob(harness: Harness, key: string): Promise<string> {
    const response = await postJson(`${harness.url}/v1/chat/completions`, chat, {
      'api-key': key,
      'x-gateway-async': 'true',
    });
    expect(response.status).toBe(202);
    return response.headers.get('location')!;
  }

  /** Polls the job as an admin (its owner may no longer be able to call) until it ends. */
  async function finished(harness: Harness, location: string): Promise<{ status: string; error: { code: string } }> {
    for (let i = 0; i < 200; i++) {
      const poll = await fetch(`${harness.url}${location}`, { headers: { 'x-gateway-admin-key': ADMIN } });
      const job = (await poll.json()) as { status: string; error: { code: string } | null };
      if (job.status === 'failed' || job.status === 'succeeded')
        return { status: job.status, error: { code: job.error?.code ?? '' } };
      await harness.nextCall();
    }
    throw new Error('the job never finished');
  }

  it.each<[string, Standing, string]>([
    ['alice is suspended', { suspendedUsers: ['alice'] }, 'GW_ERR_AUTH_SUSPENDED'],
    ['her key is suspended', { keySuspended: true }, 'GW_ERR_AUTH_SUSPENDED'],
    ['her key is removed', { keyRemoved: true }, 'GW_ERR_AUTH_INVALID_KEY'],
    ['her profile is suspended', { profileSuspended: true }, 'GW_ERR_AUTH_SUSPENDED'],
    ['her profile no longer allows async', { asyncAllowed: false }, 'GW_ERR_POLICY_ASYNC_NOT_ALLOWED'],
    ['her model allowlist no longer has the model', { allowedModels: ['gpt-4o'] }, 'GW_ERR_POLICY_MODEL_NOT_ALLOWED'],
  ])('fails a job waiting for a worker when %s, sending nothing', async (_name, standing, code) => {
    const { h, backend } = await start();
    // Bob's job holds the only worker at the backend; alice's job waits in the job queue behind it.
    await submitJob(h, BOB);
    await backend.arrived(1);
    const location = await submitJob(h, ALICE);
    h.reload(() => configFor(backend.url, standing));
    backend.release();

    const job = await finished(h, location);
    expect(job).toEqual({ status: 'failed', error: { code } });
    expect(backend.received).toHaveLength(1);
    // The owner's poll shows why (when the owner can still call at all).
    if (code === 'GW_ERR_POLICY_ASYNC_NOT_ALLOWED' || code === 'GW_ERR_POLICY_MODEL_NOT_ALLOWED') {
      const result = await fetch(`${h.url}${location}/result`, { headers: { 'api-key': ALICE } });
      expect(result.status).toBe(403);
      expect(result.headers.get('x-gateway-error-code')).toBe(code);
    }
  });

  it('fails a job that was suspended while it waited for capacity, once it gets it', async () => {
    const { h, backend } = await start();
    // A live call of bob holds the backend's only slot; alice's job starts and waits in the scheduler.
    const holding = postJson(`${h.url}/v1/chat/completions`, chat, { 'api-key': BOB });
    await backend.arrived(1);
    const location = await submitJob(h, ALICE);
    for (let i = 0; i < 10_000 && h.runtime.gate.waiting === 0; i++) await new Promise((r) => setImmediate(r));
    expect(h.runtime.gate.waiting).toBe(1);
    h.reload(() => configFor(backend.url, { suspendedUsers: ['alice'] }));
    backend.release();
    expect((await holding).status).toBe(200);

    expect(await finished(h, location)).toEqual({ status: 'failed', error: { code: 'GW_ERR_AUTH_SUSPENDED' } });
    expect(backend.received).toHaveLength(1);
  });

  it('runs a queued job whose owner still stands', async () => {
    const { h, backend } = await start();
    await submitJob(h, BOB);
    await backend.arrived(1);
    const location = await submitJob(h, ALICE);
    h.reload(() => configFor(backend.url, { suspendedUsers: ['carol'] }));
    backend.release();
    expect((await finished(h, location)).status).toBe('succeeded');
    expect(backend.received).toHaveLength(2);
  });
});
