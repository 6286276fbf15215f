import { beforeAll, describe, expect, it } from 'vitest';
import { captureRegistrations, type CapturedFunction } from './capture-registrations.js';
import { reservedRoutePrefix } from './reserved-routes.js';

let functions: ReadonlyMap<string, CapturedFunction>;

beforeAll(async () => {
  functions = captureRegistrations();
  await import('../index.js');
});

describe('function registrations', () => {
  it('registers every trigger, the orchestration, the entity and the activities under stable names', () => {
    const types = Object.fromEntries([...functions.values()].map((f) => [f.name, f.trigger.type]));
    expect(types).toEqual({
      proxy: 'httpTrigger',
      jobs: 'httpTrigger',
      health: 'httpTrigger',
      admin: 'httpTrigger',
      // No ServiceBusConnection here: the worker is the Storage queue trigger (GATEWAY_FUNCTIONS__JOB_TRANSPORT).
      longCallWorker: 'queueTrigger',
      healthProbe: 'timerTrigger',
      retention: 'timerTrigger',
      gatewayRequest: 'orchestrationTrigger',
      capacityLedger: 'entityTrigger',
      enqueueJob: 'activityTrigger',
      finalizeJob: 'activityTrigger',
    });
  });

  it('binds routes, the admin key level, the queue setting and the durable client where they are used', () => {
    const route = (name: string) => functions.get(name)!.trigger['route'];
    expect([route('proxy'), route('jobs'), route('health'), route('admin')]).toEqual([
      '{*path}',
      'jobs/{*rest}',
      'health/{kind}',
      'gateway/admin/{*rest}',
    ]);
    expect(functions.get('admin')!.trigger['authLevel']).toBe('function');
    for (const f of functions.values())
      if (f.trigger.type === 'httpTrigger')
        expect(reservedRoutePrefix(String(f.trigger['route'])), f.name).toBeUndefined();
    const worker = functions.get('longCallWorker')!;
    expect(worker.trigger).toMatchObject({
      connection: 'AzureWebJobsStorage',
      queueName: '%GATEWAY_FUNCTIONS__JOB_QUEUE%',
    });
    for (const name of ['proxy', 'jobs', 'longCallWorker']) {
      expect(
        Object.values(functions.get(name)!.metadata.bindings).some((b) => b.type === 'durableClient'),
        name,
      ).toBe(true);
    }
  });
});
