import { describe, expect, it } from 'vitest';
import { parseRequestTarget } from '../routing/request-target.js';
import { emptyUsageReading, type UsageReading } from '../usage/usage-reading.js';
import { billOnce } from './bill-once.js';

const reported: UsageReading = {
  ...emptyUsageReading('gpt-4.1'),
  promptTokens: 2,
  completionTokens: 16,
  totalTokens: 18,
  source: 'reported',
  promptSource: 'reported',
  completionSource: 'reported',
};
const bytes = (text: string) => new TextEncoder().encode(text);
const target = (path: string) => parseRequestTarget(path, '');

function deps(claim: () => Promise<boolean>) {
  const exceptions: unknown[] = [];
  return { affinity: { claimOnce: claim }, telemetry: { exception: (e: unknown) => exceptions.push(e) }, exceptions };
}

describe('billOnce', () => {
  it('leaves every call that is not a Responses API object alone', () => {
    const d = deps(async () => true);
    expect(billOnce(d, target('/v1/chat/completions'), 'POST', undefined, 1_000)).toBeUndefined();
    expect(billOnce(d, target('/v1/responses/resp_1/input_items'), 'GET', undefined, 1_000)).toBeUndefined();
    expect(billOnce(d, target('/v1/responses/resp_1'), 'DELETE', undefined, 1_000)).toBeUndefined();
  });

  it('bills a foreground response at its creation and never its reads or cancels', async () => {
    const d = deps(async () => true);
    const create = billOnce(d, target('/v1/responses'), 'POST', { model: 'm' }, 1_000)!;
    create.observe(bytes('{"id":"resp_1","object":"response","status":"completed","background":false}'));
    expect(await create.billable(reported)).toBe(reported);
    for (const [path, method] of [
      ['/v1/responses/resp_1', 'GET'],
      ['/v1/responses/resp_1/cancel', 'POST'],
    ] as const) {
      const read = billOnce(d, target(path), method, undefined, 1_000)!;
      read.observe(bytes('{"id":"resp_1","background":false,"usage":{}}'));
      expect((await read.billable(reported)).totalTokens).toBe(0);
    }
  });

  it('bills a background response on the claim that wins, never on an estimate', async () => {
    const claims: string[] = [];
    const d = deps(async () => claims.push('x') === 1);
    const read = () => {
      const r = billOnce(d, target('/v1/responses/resp_2'), 'GET', undefined, 1_000)!;
      r.observe(bytes('{"id":"resp_2","object":"response","status":"completed",'));
      r.observe(bytes('"background": true}'));
      return r;
    };
    expect((await read().billable({ ...reported, source: 'estimated' })).totalTokens).toBe(0);
    expect(await read().billable(reported)).toBe(reported);
    expect((await read().billable(reported)).totalTokens).toBe(0);
    expect(claims).toHaveLength(2);
  });

  it('bills when the mark cannot be written, and reports the failure', async () => {
    const d = deps(async () => Promise.reject(new Error('table down')));
    const create = billOnce(d, target('/v1/responses'), 'POST', { background: true }, 1_000)!;
    create.observe(bytes('{"id":"resp_3","status":"completed"}'));
    expect(await create.billable(reported)).toBe(reported);
    expect(d.exceptions).toHaveLength(1);
  });
});
