import { describe, expect, it } from 'vitest';
import { CONFIG_SECTIONS, configEnv, envOverlay } from './env-overlay.js';
import { gatewaySchema } from './gateway-schema.js';

describe('env overlay', () => {
  it('names exactly the sections of the schema (kept as a list so that the overlay does not load zod)', () => {
    expect([...CONFIG_SECTIONS].sort()).toEqual(Object.keys(gatewaySchema.shape).sort());
  });

  it('hands a worker only the variables the overlay reads, so it reads the same overlay and warns of none', () => {
    const env = {
      GATEWAY_SERVER__PORT: '9000',
      GATEWAY_URL: 'https://elsewhere',
      GATEWAY_CONFIG_FILE: 'x.json',
      GATEWAY_FUNCTIONS__WARM: 'true',
      GATEWAY_LIMITS____X: '1',
      PATH: '/bin',
    };
    const ignored: string[] = [];
    expect(configEnv(env)).toEqual({ GATEWAY_SERVER__PORT: '9000' });
    expect(envOverlay(configEnv(env), (name) => ignored.push(name))).toEqual(envOverlay(env, () => undefined));
    expect(ignored).toEqual([]);
  });
});
