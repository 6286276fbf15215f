import { gatewayMain, type BaselineBuild } from './baseline-build.js';
import { resetPeakRss, rssMb } from './process-stats.js';
import { freePort, writeGatewayConfig, type BenchProcess, type BenchProcesses } from './processes.js';
import { connectLiveHeap } from './live-heap.js';
import { memoryWithOpenStreams, type OpenStreamsMemory } from './open-streams-memory.js';
import { rssAfterFirstCalls } from './first-calls.js';

/** Every process of a bench run, and the gateways' RSS one second after they started and after their first calls. */
export interface BenchSides {
  readonly sim: BenchProcess;
  readonly gateway: BenchProcess;
  readonly bare: BenchProcess;
  readonly gatewayOff: BenchProcess;
  readonly gatewayNoRecovery: BenchProcess;
  readonly idleMb: number;
  readonly afterFirstCallsMb: number;
  /** The `--compare` build's gateway, on the same simulator with the same configuration. */
  readonly baseline?: {
    readonly process: BenchProcess;
    readonly label: string;
    readonly idleMb: number;
    readonly afterFirstCallsMb: number;
  };
}

const THIS_GATEWAY = gatewayMain('dist');
type Recovery = 'auto' | 'off';

/** Starts the simulator, the bare proxy and the gateways (this build's, and the baseline's when given). */
export async function startSides(
  processes: BenchProcesses,
  dir: string,
  baseline?: BaselineBuild,
): Promise<BenchSides> {
  const sim = await processes.start(
    'simulator',
    (port) => ['dist/simulator/main.js', '--port', String(port), '--no-record', '--name', 'bench'],
    () => ({}),
    '/_sim/health',
  );
  const startGateway = (name: string, main: string, metering: boolean, recovery: Recovery = 'auto') =>
    startGatewayOn(processes, dir, sim, { name, main, metering, recovery });
  const gateway = await startGateway('gateway', THIS_GATEWAY, true);
  const other = baseline && (await startGateway(`gateway (${baseline.label})`, gatewayMain(baseline.dist), true));
  await new Promise((r) => setTimeout(r, 1_000));
  const idleMb = rssMb(gateway.pid).rssMb;
  const baselineIdleMb = other ? rssMb(other.pid).rssMb : NaN;
  const afterFirstCallsMb = await rssAfterFirstCalls(gateway.url, gateway.pid);
  const baselineAfterFirst = other ? await rssAfterFirstCalls(other.url, other.pid) : NaN;
  const bare = await processes.start(
    'bare proxy',
    (port) => ['dist/simulator/bench/bare-proxy.js', String(port), sim.url],
    () => ({}),
    '/_sim/health',
  );
  return {
    sim,
    gateway,
    bare,
    gatewayOff: await startGateway('gateway (metering off)', THIS_GATEWAY, false),
    // Stream recovery parses every event of a recoverable stream; this gateway relays them as bytes instead.
    gatewayNoRecovery: await startGateway('gateway (stream recovery off)', THIS_GATEWAY, true, 'off'),
    idleMb,
    afterFirstCallsMb,
    ...(other && baseline
      ? {
          baseline: {
            process: other,
            label: baseline.label,
            idleMb: baselineIdleMb,
            afterFirstCallsMb: baselineAfterFirst,
          },
        }
      : {}),
  };
}

/** A gateway process on the bench's simulator, with the bench's configuration (and extra `node` flags). */
function startGatewayOn(
  processes: BenchProcesses,
  dir: string,
  sim: BenchProcess,
  gateway: { name: string; main: string; metering: boolean; recovery: Recovery },
  nodeFlags: readonly string[] = [],
): Promise<BenchProcess> {
  const { name, main, metering, recovery } = gateway;
  return processes.start(
    name,
    () => [main],
    (port) => ({ GATEWAY_CONFIG_FILE: writeGatewayConfig(dir, sim.url, port, metering, recovery) }),
    '/health/live',
    nodeFlags,
  );
}

/**
 * Memory per open stream, on a gateway of this build started for the slow-stream test alone and stopped after it
 * (ADR 0063): what 1,000 open streams leave behind (V8's grown heap, malloc's arenas — a process gives neither
 * back) must not be counted in the load runs' peak, which is measured on the gateway that ran nothing else.
 */
export async function slowStreamMemory(
  processes: BenchProcesses,
  dir: string,
  sides: BenchSides,
  count: number,
): Promise<OpenStreamsMemory> {
  // Its inspector, on loopback, is how the bench reads live memory after a full collection (ADR 0071, session 8).
  const inspectPort = await freePort();
  const gateway = await startGatewayOn(
    processes,
    dir,
    sides.sim,
    { name: 'gateway (slow streams)', main: THIS_GATEWAY, metering: true, recovery: 'auto' },
    [`--inspect=127.0.0.1:${inspectPort}`],
  );
  const heap = await connectLiveHeap(inspectPort, gateway.pid);
  try {
    // The same settling time as the load gateway's idle reading, so the per-stream figure starts from idle.
    await new Promise((r) => setTimeout(r, 1_000));
    return await memoryWithOpenStreams(`${gateway.url}/v1/chat/completions`, gateway.pid, count, heap);
  } finally {
    heap?.close();
    await processes.stopOne(gateway);
  }
}

/**
 * Resets the gateways' and the bare proxy's peak RSS right before the load runs, so that the peak read after them
 * is theirs alone (the start-up's transient excluded: zod's load in a validation worker before ADR 0087); false where
 * not allowed.
 */
export function resetPeaks(sides: BenchSides): boolean {
  const reset = resetPeakRss(sides.gateway.pid);
  resetPeakRss(sides.bare.pid);
  if (sides.baseline) resetPeakRss(sides.baseline.process.pid);
  return reset;
}

/** Peak RSS (MB) of each side the load rows measure memory on. */
export interface LoadPeaks {
  readonly gateway: number;
  readonly baseline: number;
  /** The bare proxy's (node:http + undici, none of the gateway's features): the floor the gateway's peak sits on. */
  readonly bare: number;
}

/** The peaks read right after the load runs, before the feature rows and the first-byte probe. */
export function loadPeaks(sides: BenchSides): LoadPeaks {
  return {
    gateway: rssMb(sides.gateway.pid).peakMb,
    baseline: sides.baseline === undefined ? NaN : rssMb(sides.baseline.process.pid).peakMb,
    bare: rssMb(sides.bare.pid).peakMb,
  };
}
