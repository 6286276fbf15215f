import { describe, expect, it } from 'vitest';
import { governanceSchema } from './governance-schema.js';

const HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const issues = (raw: unknown): string[] => {
  const r = governanceSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('governanceSchema', () => {
  it('parses {} to a closed configuration', () => {
    const g = governanceSchema.parse({});
    expect(
      g.identity.apiKeys.enabled ||
        g.identity.entra.enabled ||
        g.identity.trustedUpstream.enabled ||
        g.identity.anonymous.allowed,
    ).toBe(false);
    expect(g.admin).toEqual({ keys: [], entraRoles: [] });
    expect(g.priority.headers).toEqual(['x-gateway-priority', 'S7PPriorityKey']);
    expect(g.tiers).toEqual({ interactive: 1, standard: 2, batch: 3 });
  });

  it('stores key hashes only, lower-cased', () => {
    const g = governanceSchema.parse({
      identity: { apiKeys: { enabled: true, keys: [{ id: 'k', sha256: HASH.toUpperCase(), profile: 'p' }] } },
      profiles: [{ id: 'p' }],
    });
    expect(g.identity.apiKeys.keys[0]?.sha256).toBe(HASH);
    expect(
      issues({
        identity: { apiKeys: { keys: [{ id: 'k', sha256: 'sk-plain-text', profile: 'p' }] } },
        profiles: [{ id: 'p' }],
      }).join(),
    ).toMatch(/sha256/);
  });

  it('reports every broken reference at once', () => {
    const found = issues({
      identity: {
        apiKeys: {
          enabled: true,
          keys: [
            { id: 'k', sha256: HASH, profile: 'ghost' },
            { id: 'k2', sha256: HASH, profile: 'p' },
          ],
        },
        anonymous: { allowed: true, profile: 'ghost2' },
        entra: { enabled: true },
      },
      apps: [{ appId: 'a', profile: 'ghost3' }],
      profiles: [{ id: 'p', tier: 'gold', priority: { default: 1, max: 3 } }, { id: 'p' }],
    });
    for (const expected of [
      'unknown profile "ghost"',
      'duplicate key hash',
      'unknown profile "ghost2"',
      'unknown profile "ghost3"',
      'unknown tier "gold"',
      'duplicate profile id "p"',
      'less urgent',
      'audience',
      'tenantId',
    ]) {
      expect(found.join('\n')).toContain(expected);
    }
  });

  it('refuses injected header values with CR/LF and invalid header names', () => {
    expect(issues({ profiles: [{ id: 'p', injectHeaders: { 'x-a': 'v\r\nx-b: 1' } }] }).join()).toMatch(/CR, LF/);
    expect(issues({ profiles: [{ id: 'p', stripHeaders: ['bad header'] }] }).join()).toMatch(/header name/);
  });

  it('refuses the queued-call upgrade for a profile that does not allow async', () => {
    expect(issues({ profiles: [{ id: 'p', async: { upgradeWhenQueued: true } }] }).join()).toMatch(
      /upgradeWhenQueued needs allowed/,
    );
    expect(issues({ profiles: [{ id: 'p', async: { allowed: true, upgradeWhenQueued: true } }] })).toEqual([]);
  });

  it('refuses API key mode without keys', () => {
    expect(issues({ identity: { apiKeys: { enabled: true } } }).join()).toMatch(/no key/);
  });
});
