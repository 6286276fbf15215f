import { describe, expect, it } from 'vitest';
import type { Telemetry, TelemetryDependency } from '../../ports/telemetry.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { createUsageRecord } from './usage-record.js';
import { finaliseUsageReading } from './usage-reading.js';
import { recordUsageTelemetry, USAGE_EVENT_NAME } from './usage-telemetry.js';

type Kind = 'event' | 'metric' | 'dependency' | 'exception';

function recording(wanted: readonly Kind[] = ['event', 'metric', 'dependency']) {
  const events: { name: string; properties: object; measurements?: object }[] = [];
  const metrics: { name: string; value: number; dims?: object }[] = [];
  const dependencies: TelemetryDependency[] = [];
  const telemetry: Telemetry = {
    event: (name, properties, measurements) => events.push({ name, properties, measurements }),
    metric: (name, value, dims) => metrics.push({ name, value, dims }),
    dependency: (attempt) => dependencies.push(attempt),
    exception: () => undefined,
    flush: async () => undefined,
    wants: (kind) => wanted.includes(kind),
  };
  return { telemetry, events, metrics, dependencies };
}

const record = createUsageRecord(
  {
    requestId: 'r1',
    httpStatus: 200,
    outcome: 'complete',
    api: 'openai-chat',
    route: 'chat',
    caller: { userId: 'alice', tier: 'interactive' },
    backend: { name: 'ptu-1', group: 'ptu' },
    attempts: [
      { backend: 'payg-1', group: 'payg', status: 503, durationMs: 12, outcome: 'http_error' },
      { backend: 'ptu-1', group: 'ptu', status: 200, durationMs: 40, outcome: 'success' },
    ],
    tokens: finaliseUsageReading({ promptTokens: 10, completionTokens: 5 }, 'gpt-4o'),
    timings: { queueWaitMs: 3, totalMs: 60, overheadMs: 2 },
  },
  new FakeClock(),
);

describe('recordUsageTelemetry', () => {
  it('sends the request event, one dependency per attempt, and the token and latency metrics', () => {
    const { telemetry, events, metrics, dependencies } = recording();
    recordUsageTelemetry(telemetry, record);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      name: USAGE_EVENT_NAME,
      properties: { requestId: 'r1', userId: 'alice', backend: 'ptu-1', backendGroup: 'ptu', attempts: 2 },
      measurements: { promptTokens: 10, completionTokens: 5, totalTokens: 15, totalMs: 60 },
    });
    expect(events[0]!.measurements).not.toHaveProperty('ttfbMs');
    expect(dependencies.map((d) => [d.target, d.status, d.success])).toEqual([
      ['payg-1', 503, false],
      ['ptu-1', 200, true],
    ]);
    expect(metrics.map((m) => m.name)).toEqual([
      'gateway.tokens.prompt',
      'gateway.tokens.completion',
      'gateway.tokens.total',
      'gateway.latency.total_ms',
      'gateway.latency.overhead_ms',
      'gateway.latency.queue_wait_ms',
    ]);
    expect(metrics[0]!.dims).toEqual({
      outcome: 'complete',
      tier: 'interactive',
      model: 'gpt-4o',
      backend: 'ptu-1',
      group: 'ptu',
    });
  });

  it('builds only the kinds the telemetry wants', () => {
    const { telemetry, events, metrics, dependencies } = recording(['metric']);
    recordUsageTelemetry(telemetry, record);
    expect([events.length, dependencies.length, metrics.length]).toEqual([0, 0, 6]);
  });

  it('never throws', () => {
    const { telemetry } = recording();
    telemetry.event = () => {
      throw new Error('ingestion down');
    };
    expect(() => recordUsageTelemetry(telemetry, record)).not.toThrow();
  });
});
