import { beforeAll, describe, expect, it } from 'vitest';
import { requireAzurite } from '../../shared/adapters/azure/test-support/azurite.js';
import { DEFAULT_SHARED_CAPACITY, runSharedCapacityScenario } from '../../simulator/saturation/shared-capacity.js';
import { formatSharedCapacity, sharedCapacityChecks } from '../../simulator/saturation/shared-capacity-checks.js';
import { ensureBuilt } from '../support/built-dist.js';
import { HOST_ENTRY } from '../support/host-process.js';

// The scenario `node dist/simulator/saturation/main.js` runs and prints (docs/scheduling.md, "Sharing
// capacity across instances"): three standalone gateways as child processes on the Azurite the test run
// started, one pool of simulated backends that count the calls they hold at once.
describe('capacity shared by three standalone gateways (processes on Azurite)', () => {
  beforeAll(() => ensureBuilt(HOST_ENTRY), 300_000);

  it('holds the pool’s capacity and priority across processes, through a shift, a join and a kill', async () => {
    const result = await runSharedCapacityScenario({
      ...DEFAULT_SHARED_CAPACITY,
      storageConnection: requireAzurite().connectionString,
    });
    // The times are reported, not asserted: they swing with the machine's load; the checks count work.
    process.stdout.write(`${formatSharedCapacity(result)}\n`);
    for (const check of sharedCapacityChecks(result)) expect(check.pass, `${check.name}: ${check.detail}`).toBe(true);
  }, 300_000);
});
