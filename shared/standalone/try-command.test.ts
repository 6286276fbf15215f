import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load-config.js';
import { tryCommand } from './try-command.js';

const SHA = 'a'.repeat(64);
const configOf = (governance: unknown, models = ['gpt-*']) => {
  const result = validateConfig({
    backends: [{ id: 'b', url: 'http://127.0.0.1:9' }],
    pools: [{ id: 'p', backends: ['b'] }],
    routes: [{ id: 'r', match: { models }, pool: 'p' }],
    governance,
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.config;
};

describe('the start-up try command', () => {
  it('is the plain call with anonymous access, on a model the routes serve', () => {
    const lines = tryCommand('http://h:1', configOf({ identity: { anonymous: { allowed: true } } }));
    expect(lines[0]).toBe('try:');
    expect(lines[1]).toContain('"model":"gpt-4o-mini"');
    expect(lines[1]).not.toContain('api-key');
  });

  it('says to make a key with npm run key when API keys are on but none is active', () => {
    const governance = {
      identity: { apiKeys: { enabled: true, keys: [{ id: 'old', sha256: SHA, profile: 'p', suspended: true }] } },
      profiles: [{ id: 'p' }],
    };
    const [head, curl] = tryCommand('http://h:1', configOf(governance, ['llama-3']));
    expect(head).toContain('no key is active: make one with `npm run key`');
    expect(head).not.toContain('old');
    expect(curl).toContain('-H "api-key: $GATEWAY_KEY"');
    expect(curl).toContain('"model":"llama-3"');
  });

  it('asks for an Entra token for the configured audience when only Entra ID is on', () => {
    const governance = {
      identity: { entra: { enabled: true, tenantId: 'contoso.onmicrosoft.com', audience: 'api://gateway' } },
      apps: [],
    };
    const [head, curl] = tryCommand('http://h:1', configOf(governance));
    expect(head).toContain('az account get-access-token --resource api://gateway');
    expect(curl).toContain('-H "authorization: Bearer $TOKEN"');
  });
});
