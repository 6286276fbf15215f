import { describe, expect, it } from 'vitest';
import { DEFAULT_ATTEMPT_POLICY_OPTIONS, mayRetryBackend, type FailedAttempt } from './attempt-policy.js';
import { classifyFailure, type AttemptOutcome } from './failure-classifier.js';

const own = { gatewayCredentials: true } as const;

/** A failed attempt as the dispatcher sees it: the classifier's verdict on the outcome, plus its duration. */
function attempt(outcome: Omit<AttemptOutcome, 'gatewayCredentials'>, durationMs: number): FailedAttempt {
  return {
    verdict: classifyFailure({ ...outcome, ...own }),
    status: outcome.status,
    errorKind: outcome.errorKind,
    durationMs,
  };
}

const rows: [name: string, failed: FailedAttempt, retry: boolean][] = [
  ['a fast reset before the headers may be retried', attempt({ phase: 'sent', errorKind: 'reset' }, 15), true],
  ['a fast 500 may be retried', attempt({ phase: 'headers', status: 500 }, 30), true],
  ['a fast 502 may be retried', attempt({ phase: 'headers', status: 502 }, 30), true],
  ['a fast 503 may be retried', attempt({ phase: 'headers', status: 503 }, 30), true],
  [
    'a reused-socket reset is retried at once',
    attempt({ phase: 'sent', errorKind: 'reset', reusedConnection: true }, 5),
    true,
  ],
  ['a reset after a long silence spends the backend', attempt({ phase: 'sent', errorKind: 'reset' }, 15_000), false],
  ['a slow 503 spends the backend', attempt({ phase: 'headers', status: 503 }, 2_000), false],
  [
    'a 503 with Retry-After stays (it cools)',
    attempt({ phase: 'headers', status: 503, retryAfterMs: 1_000 }, 20),
    true,
  ],
  ['a first-byte timeout spends the backend', attempt({ phase: 'sent', errorKind: 'ttfb-timeout' }, 300), false],
  ['a connect timeout spends the backend', attempt({ phase: 'connect', errorKind: 'connect-timeout' }, 300), false],
  [
    'an idle timeout before the first byte spends the backend',
    attempt({ phase: 'headers', errorKind: 'idle-timeout' }, 300),
    false,
  ],
  ['an attempt deadline spends the backend', attempt({ phase: 'sent', errorKind: 'total-timeout' }, 300), false],
  ['a refused connection spends the backend', attempt({ phase: 'connect', errorKind: 'connect-refused' }, 1), false],
  ['a DNS failure spends the backend', attempt({ phase: 'connect', errorKind: 'dns' }, 1), false],
  ['a 504 spends the backend', attempt({ phase: 'headers', status: 504 }, 10), false],
  ['a 408 spends the backend', attempt({ phase: 'headers', status: 408 }, 10), false],
  ['a 501 spends the backend', attempt({ phase: 'headers', status: 501 }, 10), false],
  ['a 429 stays (it cools)', attempt({ phase: 'headers', status: 429 }, 10), true],
  ['a slow 429 stays too (it cools)', attempt({ phase: 'headers', status: 429 }, 30_000), true],
  ['a 401 on the gateway credentials spends the backend', attempt({ phase: 'headers', status: 401 }, 10), false],
  [
    'a missing deployment spends the backend',
    attempt({ phase: 'headers', status: 404, bodyErrorCode: 'DeploymentNotFound' }, 10),
    false,
  ],
  ['an answer is not retried', attempt({ phase: 'headers', status: 200 }, 10), false],
  ['a fatal verdict is not retried', attempt({ phase: 'sent', errorKind: 'caller-aborted' }, 10), false],
];

describe('mayRetryBackend', () => {
  it.each(rows)('%s', (_name, failed, retry) => {
    expect(mayRetryBackend(failed, DEFAULT_ATTEMPT_POLICY_OPTIONS)).toBe(retry);
  });

  it('draws the line between fast and slow at fastFailureMs', () => {
    const at = (durationMs: number): boolean =>
      mayRetryBackend(attempt({ phase: 'sent', errorKind: 'reset' }, durationMs), { fastFailureMs: 500 });
    expect([at(0), at(499), at(500), at(10_000)]).toEqual([true, true, false, false]);
  });
});
