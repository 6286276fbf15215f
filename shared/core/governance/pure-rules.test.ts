import { describe, expect, it } from 'vitest';
import { governanceSchema } from '../../config/governance-schema.js';
import { checkIdentityConfig } from './check-identity-config.js';
import { estimateRequestTokens } from './estimate-request-tokens.js';
import { hashApiKey } from './hash-api-key.js';
import { matchNamePattern } from './match-name-pattern.js';
import { parseClientPrincipal } from './parse-client-principal.js';
import { resolvePriority } from './resolve-priority.js';

describe('matchNamePattern', () => {
  it.each([
    [['gpt-4o*'], 'gpt-4o-mini', true],
    [['gpt-4o*'], 'GPT-4O', true],
    [['gpt-4o'], 'gpt-4o-mini', false],
    [['*'], 'anything', true],
    [['o3', 'o4*'], 'o1', false],
    [[], 'x', false],
  ])('%j matches %s → %s', (patterns, value, expected) => {
    expect(matchNamePattern(patterns, value)).toBe(expected);
  });
});

describe('estimateRequestTokens', () => {
  const o = { defaultMaxOutputTokens: 4096, charsPerToken: 4 };
  it.each([
    [{ max_tokens: 100, messages: [{ role: 'user', content: 'abcd' }] }, 102],
    [{ max_completion_tokens: 50, prompt: 'abcd' }, 51],
    [{ max_output_tokens: 10, input: 'abcdefgh' }, 12],
    [{ generationConfig: { maxOutputTokens: 7 }, contents: [{ parts: [{ text: 'abcd' }] }] }, 8],
    [{ model: 'gpt-4o-with-a-long-name', input: '' }, 4096],
    [null, 4096],
    ['not an object', 4096],
    [{ max_tokens: 100, n: 8, messages: [{ role: 'user', content: 'abcd' }] }, 802],
    [{ max_tokens: 100, n: null, prompt: 'abcd' }, 101],
    [{ max_tokens: 10, n: 2, best_of: 5, prompt: 'abcd' }, 51],
    [{ generationConfig: { maxOutputTokens: 7, candidateCount: 3 }, contents: [{ parts: [{ text: 'abcd' }] }] }, 22],
    [{ n: 2, input: '' }, 8192],
  ])('%j → %i', (body, expected) => {
    expect(estimateRequestTokens(body, o)).toBe(expected);
  });

  it.each([
    [{ max_tokens: 1e308 }, 'max_tokens'],
    [{ max_tokens: 12.5 }, 'max_tokens'],
    [{ max_tokens: -1 }, 'max_tokens'],
    [{ max_completion_tokens: '100' }, 'max_completion_tokens'],
    [{ max_output_tokens: Number.MAX_SAFE_INTEGER }, 'max_output_tokens'],
    [{ n: 0 }, 'n'],
    [{ n: 129 }, 'n'],
    [{ n: 1.5 }, 'n'],
    [{ best_of: true }, 'best_of'],
    [{ generationConfig: { candidateCount: 1e9 } }, 'generationConfig.candidateCount'],
  ])('refuses %j with 400 naming %s', (body, param) => {
    expect(() => estimateRequestTokens(body, o)).toThrow(
      expect.objectContaining({ code: 'GW_ERR_REQUEST_INVALID_PARAMETER', status: 400, param }),
    );
  });

  it('stays bounded on a huge body', () => {
    const body = { messages: Array.from({ length: 300_000 }, () => ({ content: 'ab' })) };
    expect(estimateRequestTokens(body, o)).toBeLessThan(4096 + 300_000);
  });
});

describe('resolvePriority', () => {
  const tiers = { gold: 1, silver: 2, bronze: 3 };
  const g = governanceSchema.parse({
    tiers,
    priority: { defaultLevel: 4, keys: { P1: 1, p3: 3, p5: 5 } },
    profiles: [],
  });
  const profile = (p: object) => governanceSchema.parse({ tiers, profiles: [{ id: 'x', ...p }] }).profiles[0]!;
  it.each([
    [{}, undefined, 4],
    [{ tier: 'silver' }, undefined, 2],
    [{ tier: 'silver', priority: { default: 3 } }, undefined, 3],
    [{ tier: 'silver' }, 'p1', 2],
    [{ tier: 'silver', priority: { max: 1 } }, 'p1', 1],
    [{ tier: 'silver' }, 'P5', 5],
    [{ tier: 'bronze', priority: { max: 2 } }, 'p1', 2],
    [{ tier: 'gold' }, 'unknown', 1],
  ])('profile %j with key %s → %i', (p, key, expected) => {
    const headers = new Headers(key === undefined ? {} : { 'x-gateway-priority': key });
    expect(resolvePriority(g, profile(p), headers)).toBe(expected);
  });
});

describe('checkIdentityConfig', () => {
  it('refuses production without identity, allows it with a mode or explicit anonymous access', () => {
    expect(checkIdentityConfig(governanceSchema.parse({}), 'production')).toMatch(/no caller identity/);
    expect(checkIdentityConfig(governanceSchema.parse({}), 'development')).toBeUndefined();
    expect(
      checkIdentityConfig(governanceSchema.parse({ identity: { anonymous: { allowed: true } } }), 'production'),
    ).toBeUndefined();
    const withKeys = governanceSchema.parse({
      identity: { apiKeys: { enabled: true, keys: [{ id: 'k', sha256: hashApiKey('k'), profile: 'p' }] } },
      profiles: [{ id: 'p' }],
    });
    expect(checkIdentityConfig(withKeys, 'production')).toBeUndefined();
  });
});

describe('parseClientPrincipal', () => {
  it('reads app id, object id and roles, and refuses what is not a principal', () => {
    const doc = {
      auth_typ: 'aad',
      role_typ: 'roles',
      claims: [{ typ: 'azp', val: 'app' }, { typ: 'oid', val: 'u' }, { typ: 'roles', val: 'Admin' }, { typ: 'x' }],
    };
    expect(parseClientPrincipal(Buffer.from(JSON.stringify(doc)).toString('base64'))).toEqual({
      appId: 'app',
      userId: 'u',
      roles: ['Admin'],
    });
    expect(parseClientPrincipal(Buffer.from('{"claims":1}').toString('base64'))).toBeUndefined();
    expect(parseClientPrincipal('!!!')).toBeUndefined();
  });
});

describe('hashApiKey', () => {
  it('is the lower-case hex sha256 of the UTF-8 key', () => {
    expect(hashApiKey('test')).toBe('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08');
  });
});
