import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { ManualTimers, settle } from '../../core/jobs/test-support/manual-timers.js';
import { usageRecordAt } from '../../../test/support/usage-records.js';
import { createEventHubsUsageExporter, type EventHubsUsageExporterOptions } from './event-hubs-usage-exporter.js';
import { FakeEventHub } from './test-support/fake-event-hub.js';

function harness(options: EventHubsUsageExporterOptions = {}, hub = new FakeEventHub()) {
  const clock = new FakeClock(Date.parse('2026-11-02T10:00:00Z'));
  const timers = new ManualTimers(clock);
  const errors: string[] = [];
  const exporter = createEventHubsUsageExporter(
    {
      producer: hub.producer,
      now: () => clock.now(),
      setTimer: timers.setTimer,
      random: () => 1,
      onError: (e) => errors.push((e as Error).message),
    },
    { flushIntervalMs: 1_000, retryBaseMs: 1_000, ...options },
  );
  return { hub, clock, timers, errors, exporter };
}

const record = (i: number, user = 'alice') =>
  usageRecordAt('2026-11-02T09:00:00Z', { id: `req-${String(i).padStart(4, '0')}`, user });

describe('Event Hubs usage exporter (against a fake hub at the SDK boundary)', () => {
  it('sends each record as a JSON event keyed by its request id, with its schema version', async () => {
    const { hub, timers, exporter } = harness();
    await exporter.export(record(1));
    expect(hub.events).toHaveLength(0);
    await timers.advance(1_000);
    expect(hub.events).toHaveLength(1);
    const [event] = hub.events;
    expect(event).toMatchObject({
      contentType: 'application/json',
      messageId: 'req-0001',
      properties: { gwKind: 'usage', gwSchema: 1 },
    });
    expect(hub.records()[0]).toEqual(JSON.parse(JSON.stringify(record(1))));
    expect(exporter.stats()).toMatchObject({
      name: 'event-hubs:gw-test.servicebus.windows.net/gateway-usage',
      sent: 1,
    });
  });

  it('fills batches up to the size the hub allows and sends the rest in the next ones, in order', async () => {
    const hub = new FakeEventHub({ maxSizeInBytes: 8_000 });
    const { exporter } = harness({}, hub);
    for (let i = 0; i < 40; i++) await exporter.export(record(i));
    await exporter.flush();
    expect(hub.sends).toBeGreaterThan(4);
    expect(hub.records().map((r) => r.requestId)).toEqual(Array.from({ length: 40 }, (_, i) => record(i).requestId));
  });

  it('sends a full batch at once, without waiting for the interval', async () => {
    const { hub, exporter } = harness({ maxBatchRecords: 5 });
    for (let i = 0; i < 5; i++) await exporter.export(record(i));
    await settle();
    expect(hub.events).toHaveLength(5);
  });

  it('keeps the records of a failed send and retries with growing backoff until the hub takes them', async () => {
    const { hub, timers, exporter, errors } = harness();
    hub.failNextSends(2, 'ServerBusyError');
    await exporter.export(record(1));
    await exporter.export(record(2));
    await timers.advance(1_000); // first attempt fails; next one not before 1 s
    expect(hub.failedSends).toBe(1);
    await timers.advance(1_000); // the interval ticks once more: the second attempt fails, backoff 2 s
    expect(hub.failedSends).toBe(2);
    await timers.advance(1_000);
    expect(hub.events).toHaveLength(0);
    await timers.advance(1_000);
    expect(hub.records().map((r) => r.requestId)).toEqual(['req-0001', 'req-0002']);
    expect(exporter.stats()).toMatchObject({ sent: 2, failedSends: 2, buffered: 0, dropped: 0 });
    expect(exporter.stats().lastError?.message).toContain('ServerBusyError');
    expect(errors).toHaveLength(2);
  });

  it('bounds its buffer: past it callers wait (counted), past the waiting room records drop (reported)', async () => {
    const { hub, exporter, errors } = harness({ maxBatchRecords: 2, maxBufferedRecords: 2, flushIntervalMs: 0 });
    const release = hub.holdSends();
    await exporter.export(record(1));
    await exporter.export(record(2)); // a full batch: its send starts and is held; the buffer is full
    const waiting = [exporter.export(record(3)), exporter.export(record(4))];
    await exporter.export(record(5)); // the waiting room (as large as the buffer) is full: dropped
    expect(exporter.stats()).toMatchObject({ backPressure: 2, dropped: 1, buffered: 4, sent: 0 });
    expect(errors).toEqual([
      expect.stringContaining('1 usage record(s) dropped (the buffer and its waiting room are full)'),
    ]);
    release();
    await Promise.all(waiting);
    await exporter.flush();
    expect(hub.records().map((r) => r.requestId)).toEqual(['req-0001', 'req-0002', 'req-0003', 'req-0004']);
    expect(exporter.stats()).toMatchObject({ sent: 4, buffered: 0 });
  });

  it('drops a record no batch can hold, counts it, and sends the others', async () => {
    const hub = new FakeEventHub({ maxSizeInBytes: 1_500 });
    const { exporter, errors } = harness({}, hub);
    const big = usageRecordAt('2026-11-02T09:00:00Z', { id: 'big', user: 'x'.repeat(2_000) });
    await exporter.export(record(1));
    await exporter.export(big);
    await exporter.export(record(2));
    await exporter.flush();
    expect(hub.records().map((r) => r.requestId)).toEqual(['req-0001', 'req-0002']);
    expect(exporter.stats()).toMatchObject({ sent: 2, dropped: 1 });
    expect(errors[0]).toContain('usage record big is larger than a batch can hold');
  });

  it('sends what is buffered on close and closes the client', async () => {
    const { hub, exporter } = harness();
    await exporter.export(record(1));
    await exporter.close();
    expect(hub.records().map((r) => r.requestId)).toEqual(['req-0001']);
    expect(hub.isClosed).toBe(true);
  });

  it('counts records it could not send before close as dropped, and says so', async () => {
    const { hub, exporter, errors } = harness({ closeTimeoutMs: 5_000 });
    hub.failNextSends(1);
    await exporter.export(record(1));
    await exporter.close();
    expect(exporter.stats()).toMatchObject({ sent: 0, dropped: 1, buffered: 0 });
    expect(errors.at(-1)).toContain('1 usage record(s) dropped (not sent before close)');
    await exporter.export(record(2));
    expect(exporter.stats().dropped).toBe(2);
  });
});
