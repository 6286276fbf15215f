import { describe, expect, it } from 'vitest';
import { bodyFor, type BodiesByModel } from './request-body.js';

const json = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
const body = new TextEncoder().encode(JSON.stringify(json));

describe('bodyFor', () => {
  it('sends the bytes received when the backend knows the model by the same name', () => {
    const cache: BodiesByModel = new Map();
    expect(bodyFor({ body, json }, 'gpt-4o', cache)).toBe(body);
    expect(bodyFor({ body, json }, undefined, cache)).toBe(body);
    expect(cache.size).toBe(0);
  });

  it('rewrites the model once per name in a call, keeping the rest of the body', () => {
    const cache: BodiesByModel = new Map();
    const renamed = bodyFor({ body, json }, 'gpt-4o-2024-08-06', cache);
    expect(JSON.parse(new TextDecoder().decode(renamed!))).toEqual({ ...json, model: 'gpt-4o-2024-08-06' });
    expect(bodyFor({ body, json }, 'gpt-4o-2024-08-06', cache)).toBe(renamed);
  });

  it('never rewrites a body that is not JSON', () => {
    const raw = new Uint8Array([1, 2, 3]);
    expect(bodyFor({ body: raw, json: undefined }, 'other', new Map())).toBe(raw);
  });
});
