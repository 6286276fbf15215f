import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load-config.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';

// docs/local-development.md copies gateway.config.example.json to gateway.config.json and calls the
// gateway with the keys it names; the example must load, and the keys in the doc must be the ones hashed.
const example = JSON.parse(readFileSync(new URL('../../gateway.config.example.json', import.meta.url), 'utf8')) as {
  governance: { identity: { apiKeys: { keys: { sha256: string }[] } }; admin: { keys: { sha256: string }[] } };
};
const doc = readFileSync(new URL('../../docs/local-development.md', import.meta.url), 'utf8');

describe('gateway.config.example.json (docs/local-development.md)', () => {
  it('is a valid configuration', () => {
    const result = validateConfig(example);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it('holds the hashes of the caller and admin keys the doc uses', () => {
    expect(doc).toContain('api-key: dev-caller-key');
    expect(doc).toContain('x-gateway-admin-key: dev-admin-key');
    expect(example.governance.identity.apiKeys.keys[0]?.sha256).toBe(hashApiKey('dev-caller-key'));
    expect(example.governance.admin.keys[0]?.sha256).toBe(hashApiKey('dev-admin-key'));
  });
});
