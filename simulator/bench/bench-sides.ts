import { gatewayMain, type BaselineBuild } from './baseline-build.js';
import { resetPeakRss, rssMb } from './process-stats.js';
import { writeGatewayConfig, type BenchProcess, type BenchProcesses } from './processes.js';

/** Every process of a bench run, and the gateways' RSS one second after they started. */
export interface BenchSides {
  readonly sim: BenchProcess;
  readonly gateway: BenchProcess;
  readonly bare: BenchProcess;
  readonly gatewayOff: BenchProcess;
  readonly gatewayNoRecovery: BenchProcess;
  readonly idleMb: number;
  /** The `--compare` build's gateway, on the same simulator with the same configuration. */
  readonly baseline?: { readonly process: BenchProcess; readonly label: string; readonly idleMb: number };
}

const THIS_GATEWAY = gatewayMain('dist');

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
  const startGateway = (name: string, main: string, metering: boolean, recovery: 'auto' | 'off' = 'auto') =>
    processes.start(
      name,
      () => [main],
      (port) => ({ GATEWAY_CONFIG_FILE: writeGatewayConfig(dir, sim.url, port, metering, recovery) }),
      '/health/live',
    );
  const gateway = await startGateway('gateway', THIS_GATEWAY, true);
  const other = baseline && (await startGateway(`gateway (${baseline.label})`, gatewayMain(baseline.dist), true));
  await new Promise((r) => setTimeout(r, 1_000));
  const idleMb = rssMb(gateway.pid).rssMb;
  const baselineIdleMb = other ? rssMb(other.pid).rssMb : NaN;
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
    ...(other && baseline ? { baseline: { process: other, label: baseline.label, idleMb: baselineIdleMb } } : {}),
  };
}

/** Resets the gateways' peak RSS, so that the peak read later is the load runs' own; false where not allowed. */
export function resetPeaks(sides: BenchSides): boolean {
  const reset = resetPeakRss(sides.gateway.pid);
  if (sides.baseline) resetPeakRss(sides.baseline.process.pid);
  return reset;
}
