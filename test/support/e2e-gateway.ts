import OpenAI from 'openai';
import type { GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import type { UsageRecord } from '../../shared/core/usage/usage-record.js';
import { defaultConfig, type Harness } from './gateway-harness.js';

/**
 * The set-up the end-to-end tests share on top of {@link startHarness}: callers by API key, the two-group pool a
 * stream fails over or recovers in, the real `openai` client, and a call's usage record.
 */

type Governance = NonNullable<GatewayConfigInput['governance']>;
type Profile = NonNullable<Governance['profiles']>[number];

/**
 * Callers that present API keys, by name → key: each key's id and user id are the name, all on `profile`; with
 * `adminKey`, the admin API takes it (admin id `ops`).
 */
export function keyedGovernance(options: {
  readonly keys: Readonly<Record<string, string>>;
  readonly profile: Profile;
  readonly adminKey?: string;
}): Governance {
  const keys = Object.entries(options.keys).map(([id, key]) => ({
    id,
    sha256: hashApiKey(key),
    profile: options.profile.id,
    userId: id,
  }));
  return {
    identity: { apiKeys: { enabled: true, keys } },
    profiles: [options.profile],
    ...(options.adminKey === undefined ? {} : adminOnly(options.adminKey)),
  };
}

/** Anonymous callers, and the admin API behind `adminKey` (admin id `ops`). */
export function anonymousWithAdmin(adminKey: string): Governance {
  return { identity: { anonymous: { allowed: true } }, ...adminOnly(adminKey) };
}

const adminOnly = (adminKey: string): Pick<Governance, 'admin'> => ({
  admin: { keys: [{ id: 'ops', sha256: hashApiKey(adminKey) }] },
});

/**
 * Backend `a` tried first (its own priority group, `ptu`), `b` behind it (`payg`): the pool in which a stream cut
 * on `a` fails over or is recovered on `b`. `continuePrefill` declares whether `b` continues an assistant prefill;
 * `streamRecovery` sets the catch-all route's; `extra` adds to (or replaces) the configuration's sections.
 */
export function primaryAndStandby(
  urls: Record<string, string>,
  options: { readonly continuePrefill?: boolean; readonly streamRecovery?: 'auto' | 'replay' | 'off' } = {},
  extra: Partial<GatewayConfigInput> = {},
): GatewayConfigInput {
  const { continuePrefill, streamRecovery } = options;
  return defaultConfig(urls, {
    ...(continuePrefill === undefined
      ? {}
      : {
          backends: [
            { id: 'a', url: urls.a!, kind: 'openai' },
            { id: 'b', url: urls.b!, kind: 'openai', continuePrefill },
          ],
        }),
    pools: [
      {
        id: 'main',
        backends: [
          { backend: 'a', group: 'ptu' },
          { backend: 'b', group: 'payg' },
        ],
      },
    ],
    ...(streamRecovery === undefined
      ? {}
      : { routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main', streamRecovery }] }),
    ...extra,
  });
}

/** The real `openai` client on the harness's gateway: an anonymous caller's dummy key, no retries of its own. */
export function openaiClient(h: Harness, apiKey = 'unused-anonymous'): OpenAI {
  return new OpenAI({ baseURL: `${h.url}/v1`, apiKey, maxRetries: 0 });
}

/** The usage record of a request id (the `x-gateway-request-id` header), once the ledger has it; throws if none. */
export async function recordOf(h: Harness, requestId: string | null): Promise<UsageRecord> {
  await h.runtime.ledger.flush();
  for await (const r of h.runtime.ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }))
    if (r.requestId === requestId) return r;
  throw new Error(`no usage record for ${requestId}`);
}

/** Clears every simulator's attempts and fault counters (their configuration stays). */
export function resetSims(h: Harness): void {
  for (const sim of Object.values(h.sims)) sim.reset();
}
