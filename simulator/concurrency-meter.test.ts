import { describe, expect, it } from 'vitest';
import { ConcurrencyMeter } from './concurrency-meter.js';
import { startSimulator } from './simulator.js';

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

describe('ConcurrencyMeter', () => {
  it('counts the requests two simulators hold at once, and none after they answered', async () => {
    const meter = new ConcurrencyMeter();
    const sims = await Promise.all(['a', 'b'].map((name) => startSimulator({ name, latencyMs: 150, meter })));
    try {
      const calls = [sims[0]!, sims[0]!, sims[1]!].map((sim) =>
        fetch(`${sim.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: CHAT,
        }).then((r) => r.text()),
      );
      await sims[0]!.waitForAttempts(2);
      await sims[1]!.waitForAttempts(1);
      expect(meter.inFlight).toBe(3);
      await Promise.all(calls);
      await fetch(`${sims[0]!.url}/_sim/attempts`).then((r) => r.text());
      expect(meter.peak).toBe(3);
      expect(meter.inFlight).toBe(0);
      const first = meter.samples()[0]!.atMs;
      expect(meter.peakBetween(first, performance.now())).toBe(3);
    } finally {
      await Promise.all(sims.map((s) => s.close()));
    }
  });
});
