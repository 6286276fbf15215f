import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../dispatch/dispatcher.js';
import type { CallSummary } from '../pipeline/call-summary.js';
import { BackendActivity } from './backend-activity.js';

const NOW = 1_000_000;
const served = (backend: string): AttemptRecord => ({
  backend,
  group: 'g',
  status: 200,
  error: undefined,
  durationMs: 100,
  outcome: 'served',
});
const marked = (backend: string, outcome: AttemptRecord['outcome']): AttemptRecord => ({
  ...served(backend),
  outcome,
});

function call(over: Partial<CallSummary>): CallSummary {
  return { attempts: [], outcome: 'complete', backend: undefined, ...over } as unknown as CallSummary;
}
const backend = (id: string) => ({ id }) as CallSummary['backend'];

function view(activity: BackendActivity, id: string) {
  const { attempts, errors, lastError } = activity.view(id, NOW);
  return { attempts, errors, lastError: lastError?.code ?? null };
}

/** One failure per failed attempt; a call's answer counted once, wherever it came from. */
describe('BackendActivity', () => {
  it('counts a recovered stream once as a success on the backend that finished it, the cut once on the other', () => {
    const activity = new BackendActivity();
    activity.record(
      call({ attempts: [marked('a', 'cut'), served('b')], outcome: 'complete', backend: backend('b') }),
      NOW,
    );
    expect(view(activity, 'a')).toEqual({ attempts: 1, errors: 1, lastError: 'stream-cut' });
    expect(view(activity, 'b')).toEqual({ attempts: 1, errors: 0, lastError: null });
  });

  it('counts a failed recovery as one failure per attempt, not the broken one twice', () => {
    const activity = new BackendActivity();
    activity.record(
      call({
        attempts: [marked('a', 'cut'), marked('b', 'diverged')],
        outcome: 'cut',
        cutReason: 'backend',
        backend: backend('a'),
      }),
      NOW,
    );
    expect(view(activity, 'a')).toEqual({ attempts: 1, errors: 1, lastError: 'stream-cut' });
    expect(view(activity, 'b')).toEqual({ attempts: 1, errors: 1, lastError: 'diverged' });
  });

  it('counts a stream cut by its backend (no recovery) as that attempt failing, not also as a success', () => {
    const activity = new BackendActivity();
    activity.record(
      call({ attempts: [served('a')], outcome: 'cut', cutReason: 'backend', backend: backend('a') }),
      NOW,
    );
    expect(view(activity, 'a')).toEqual({ attempts: 1, errors: 1, lastError: 'stream-cut' });
    expect(activity.view('a', NOW).latencyMs).toBeNull();
  });

  it('does not blame the backend for a stream the shutdown drain cut', () => {
    const activity = new BackendActivity();
    activity.record(
      call({ attempts: [served('a')], outcome: 'cut', cutReason: 'shutdown', backend: backend('a') }),
      NOW,
    );
    expect(view(activity, 'a')).toEqual({ attempts: 1, errors: 0, lastError: null });
  });

  it('does not blame a backend whose attempt the drain stopped before its headers (a failover still counts)', () => {
    const activity = new BackendActivity();
    const stopped: AttemptRecord = { ...marked('b', 'fatal'), status: undefined, error: 'caller-aborted' };
    const failed: AttemptRecord = { ...marked('a', 'failover'), status: 503 };
    activity.record(call({ attempts: [failed, stopped], outcome: 'cut', cutReason: 'shutdown' }), NOW);
    expect(view(activity, 'a')).toEqual({ attempts: 1, errors: 1, lastError: '503' });
    expect(view(activity, 'b')).toEqual({ attempts: 0, errors: 0, lastError: null });
  });

  it('neither blames nor credits a backend whose attempt the caller abandoned before its headers', () => {
    const activity = new BackendActivity();
    activity.record(call({ attempts: [served('a')] }), NOW);
    const abandoned: AttemptRecord = { ...marked('a', 'fatal'), status: undefined, error: 'caller-aborted' };
    activity.record(call({ attempts: [abandoned], outcome: 'failed' }), NOW);
    expect(view(activity, 'a')).toEqual({ attempts: 1, errors: 0, lastError: null });
    expect(activity.view('a', NOW).errorRate).toBe(0);
  });
});
