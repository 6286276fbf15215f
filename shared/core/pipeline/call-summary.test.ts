import { describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import type { GatewayRequest } from '../http/gateway-request.js';
import { startCall } from './call-summary.js';

function request(signal: AbortSignal): GatewayRequest {
  return { method: 'POST', url: 'http://gw.test/v1/chat/completions', headers: new Headers(), body: null, signal };
}

describe('startCall', () => {
  it("stops the work before the headers on the drain's cut as well as on the caller's abort", () => {
    const caller = new AbortController();
    const drain = new AbortController();
    const call = startCall(request(caller.signal), systemClock, drain.signal);
    expect(call.signal.aborted).toBe(false);
    drain.abort(new Error('grace period ended'));
    expect([call.signal.aborted, caller.signal.aborted]).toEqual([true, false]);
    const left = new AbortController();
    const other = startCall(request(left.signal), systemClock, new AbortController().signal);
    left.abort();
    expect(other.signal.aborted).toBe(true);
  });

  it("is the caller's own signal when the call has no drain (a job's run)", () => {
    const caller = new AbortController();
    expect(startCall(request(caller.signal), systemClock).signal).toBe(caller.signal);
  });
});
