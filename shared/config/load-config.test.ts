import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateHostConfig } from './host-validation.js';
import { envOverlay, loadConfig, validateConfig } from './load-config.js';

describe('validateConfig', () => {
  it('applies defaults to an empty config', () => {
    const result = validateConfig({});
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config.server.port).toBe(8000);
  });

  it('reports every problem at once, including cross-references', () => {
    const result = validateConfig({
      server: { port: 'eighty' },
      backends: [
        { id: 'a', url: 'ftp://x' },
        { id: 'a', url: 'http://y' },
      ],
      pools: [{ id: 'p', backends: ['a', 'ghost'] }],
      routes: [{ id: 'r', match: { models: ['m'] }, pool: 'nope', fallbacks: ['r'] }],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.issues.join('\n');
    expect(text).toContain('server.port');
    expect(text).toContain('backends.0.url');
    // Cross-reference problems are reported only once fields parse; fix the fields to see them.
    const second = validateConfig({
      backends: [
        { id: 'a', url: 'http://x' },
        { id: 'a', url: 'http://y' },
      ],
      pools: [{ id: 'p', backends: ['a', 'ghost'] }],
      routes: [{ id: 'r', match: { models: ['m'] }, pool: 'nope', fallbacks: ['r'] }],
    });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.issues).toEqual(
      expect.arrayContaining([
        expect.stringContaining('duplicate id "a"'),
        expect.stringContaining('unknown backend "ghost"'),
        expect.stringContaining('unknown pool "nope"'),
        expect.stringContaining('cannot fall back to itself'),
      ]),
    );
  });

  it('freezes the result', () => {
    const result = validateConfig({ backends: [{ id: 'a', url: 'http://x' }] });
    if (!result.ok) throw new Error('invalid');
    expect(Object.isFrozen(result.config.backends[0])).toBe(true);
  });

  it('rejects unknown keys rather than ignoring a typo, and says what was probably meant', () => {
    const result = validateConfig({
      server: { prot: 1 },
      pools: [{ id: 'p', backends: ['a'], group_order: ['x'] }],
      backends: [{ id: 'a', url: 'http://x', auth: { type: 'api-key', key: { env: 'K' }, headr: 'x-api-key' } }],
      resilence: {},
      routes: [{ id: 'r', match: { models: ['m'] }, pool: 'p', fallback: [] }],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual(
      expect.arrayContaining([
        'server.prot: unknown key "prot" (did you mean "port"?)',
        'pools.0.group_order: unknown key "group_order" (did you mean "groupOrder"?)',
        'backends.0.auth.headr: unknown key "headr" (did you mean "header"?)',
        'resilence: unknown key "resilence" (did you mean "resilience"?)',
        'routes.0.fallback: unknown key "fallback" (did you mean "fallbacks"?)',
      ]),
    );
  });

  it('lists the keys accepted where an unknown key is not close to any', () => {
    const result = validateConfig({ limits: { maxRequestSize: 1 } });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues).toEqual([
        'limits.maxRequestSize: unknown key "maxRequestSize" ' +
          '(keys here: "maxBodyBytes", "maxBufferedBodyBytes", "maxHeaderBytes")',
      ]);
  });
});

describe('envOverlay and loadConfig', () => {
  it('maps GATEWAY_<SECTION>__<KEY> to camelCase paths with JSON values', () => {
    expect(
      envOverlay({
        GATEWAY_SERVER__PORT: '9000',
        GATEWAY_LIMITS__MAX_BODY_BYTES: '1024',
        GATEWAY_SERVER__HOST: 'localhost',
        OTHER: 'x',
      }),
    ).toEqual({ server: { port: 9000, host: 'localhost' }, limits: { maxBodyBytes: 1024 } });
  });

  it('ignores, with a warning, a GATEWAY_ variable that names no section; keeps unknown keys under one', () => {
    const ignored: string[] = [];
    const overlay = envOverlay(
      {
        GATEWAY_URL: 'https://other-tool.example',
        GATEWAY_TOKEN: 'x',
        GATEWAY_SERVER_PORT: '9000',
        GATEWAY_SERVER__PROT: '9000',
        GATEWAY_FUNCTIONS__STORES: 'memory',
        GATEWAY_CONFIG_FILE: 'x.json',
      },
      (name) => ignored.push(name),
    );
    expect(ignored.sort()).toEqual(['GATEWAY_SERVER_PORT', 'GATEWAY_TOKEN', 'GATEWAY_URL']);
    expect(overlay).toEqual({ server: { prot: 9000 } });
    // The typo under a known section is still refused by validation.
    const result = validateConfig(overlay);
    expect(result.ok === false && result.issues.join('\n')).toMatch(
      /server.prot: unknown key "prot" \(did you mean "port"\?\)/,
    );
  });

  it('merges the environment over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, JSON.stringify({ server: { port: 1234, host: '127.0.0.1' } }));
    const result = loadConfig({ file, env: { GATEWAY_SERVER__PORT: '4321' } });
    expect(result.ok && result.config.server).toMatchObject({ port: 4321, host: '127.0.0.1' });
    expect(result.source).toContain('GATEWAY_*');
  });

  it('names the environment variable that set a bad value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'gateway.config.json');
    writeFileSync(file, JSON.stringify({ server: { port: 1234 } }));
    const result = loadConfig({
      file,
      env: { GATEWAY_SERVER__PORT: 'eighty', GATEWAY_SERVER__PROT: '1', GATEWAY_LIMITS__MAX_BODY_BYTES: '10' },
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues).toEqual([
        'server.port: Invalid input: expected number, received string (set by GATEWAY_SERVER__PORT)',
        'server.prot: unknown key "prot" (did you mean "port"?) (set by GATEWAY_SERVER__PROT)',
      ]);
  });

  it("names the variable in the hosts' validation too (start and reload)", () => {
    const result = validateHostConfig({ limits: { maxBodyBytes: 1 } }, { GATEWAY_LIMITS__MAX_BODY_BYTES: '-5' });
    expect(result.ok ? [] : result.issues).toEqual([
      'limits.maxBodyBytes: Too small: expected number to be >0 (set by GATEWAY_LIMITS__MAX_BODY_BYTES)',
    ]);
  });

  it('refuses a named file that does not exist or does not parse', () => {
    expect(loadConfig({ file: '/nonexistent/gateway.json' }).ok).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ nope');
    const result = loadConfig({ file });
    expect(result.ok).toBe(false);
  });
});
