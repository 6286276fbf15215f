import { describe, expect, it } from 'vitest';
import { createMemoryUsageLedger } from '../../adapters/memory/memory-usage-ledger.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { FakeClock } from '../test-support/fake-clock.js';
import type { QuotaReservation } from '../governance/quota-guard.js';
import { emptyUsageReading } from '../usage/usage-reading.js';
import { USAGE_EVENT_NAME } from '../usage/usage-telemetry.js';
import type { CallSummary } from './call-summary.js';
import { CallHoldings, createCallRecorder } from './record.js';
import { callOf, gatewayRequest } from './test-support/pipeline-fixtures.js';

function holdingsWithLog() {
  const log: string[] = [];
  const reservation: QuotaReservation = {
    reservedTokens: 500,
    settle: async (tokens) => {
      log.push(`settle ${tokens}`);
      return tokens - 500;
    },
    release: async () => void log.push('release quota'),
  };
  const holdings = new CallHoldings();
  holdings.leases = { release: () => void log.push('release lease') };
  holdings.reservation = reservation;
  return { holdings, log };
}

const usage = { ...emptyUsageReading('gpt-4o'), promptTokens: 100, completionTokens: 20, totalTokens: 120 };

describe('CallHoldings', () => {
  it('gives the lease back and charges the quota what the backend produced when an answer ends', () => {
    const { holdings, log } = holdingsWithLog();
    holdings.settle(200, usage);
    expect(log).toEqual(['release lease', 'settle 120']);
  });

  it('charges nothing for an error answer', () => {
    const { holdings, log } = holdingsWithLog();
    holdings.settle(503, usage);
    expect(log).toEqual(['release lease', 'release quota']);
  });

  it('charges the whole reservation when the call becomes a job, and nothing more if the hand-off then fails', () => {
    const { holdings, log } = holdingsWithLog();
    holdings.chargeForJob();
    holdings.releaseAll();
    expect(log).toEqual(['settle 500', 'release lease']);
  });

  it('gives everything back when the call fails before answering', () => {
    const { holdings, log } = holdingsWithLog();
    holdings.releaseAll();
    expect(log).toEqual(['release lease', 'release quota']);
  });

  it('never fails the call when the quota store does', async () => {
    const holdings = new CallHoldings();
    holdings.reservation = {
      reservedTokens: 1,
      settle: () => Promise.reject(new Error('store down')),
      release: () => Promise.reject(new Error('store down')),
    };
    holdings.settle(200, usage);
    holdings.releaseAll();
    await new Promise((resolve) => setImmediate(resolve));
  });
});

describe('createCallRecorder', () => {
  function summaryOf(clock: FakeClock): CallSummary {
    const call = callOf(gatewayRequest(), clock);
    call.summary.status = 200;
    call.summary.outcome = 'complete';
    call.summary.usage = usage;
    return call.summary;
  }

  it('appends the usage record, sends its telemetry, then tells onCallEnd', async () => {
    const clock = new FakeClock();
    const ledger = createMemoryUsageLedger();
    const order: string[] = [];
    const telemetry = {
      event: (name: string) => void order.push(name),
      metric: () => {},
      dependency: () => {},
      exception: () => {},
      flush: async () => {},
      wants: (kind: string) => kind === 'event',
    } as unknown as Telemetry;
    const summary = summaryOf(clock);
    createCallRecorder({ clock, ledger, telemetry, onCallEnd: () => void order.push('onCallEnd') }).record(summary);
    expect(order).toEqual([USAGE_EVENT_NAME, 'onCallEnd']);
    const records = [];
    for await (const r of ledger.query({ fromMs: 0, toMs: clock.now() + 1 })) records.push(r);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ requestId: summary.requestId, httpStatus: 200, tokens: { totalTokens: 120 } });
  });

  it("records an answered call off the response path, after the caller's last byte", async () => {
    const clock = new FakeClock();
    const ended: CallSummary[] = [];
    const recorder = createCallRecorder({ clock, onCallEnd: (s) => void ended.push(s) });
    const summary = summaryOf(clock);
    recorder.recordLater(summary);
    expect(ended).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toEqual([summary]);
  });

  it('records through a ledger whose append returns no promise, and still tells onCallEnd', () => {
    const clock = new FakeClock();
    const appended: unknown[] = [];
    const ended: CallSummary[] = [];
    const ledger = { ...createMemoryUsageLedger(), append: (record: unknown) => void appended.push(record) };
    const summary = summaryOf(clock);
    const recorder = createCallRecorder({ clock, ledger: ledger as never, onCallEnd: (s) => void ended.push(s) });
    expect(() => recorder.record(summary)).not.toThrow();
    expect(appended).toHaveLength(1);
    expect(ended).toEqual([summary]);
  });

  it('reports a ledger that refuses a record to telemetry', async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const ledger = createMemoryUsageLedger();
    await ledger.close();
    const telemetry = {
      event: () => {},
      metric: () => {},
      dependency: () => {},
      exception: (error: unknown) => void errors.push(error),
      flush: async () => {},
    } as unknown as Telemetry;
    createCallRecorder({ clock, ledger, telemetry }).record(summaryOf(clock));
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(1);
  });
});
